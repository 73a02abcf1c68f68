/* The peer of t/bench/compile.sh: parse a YAML file into a libyaml document
 * tree and emit it again, the least any YAML-to-YAML compiler must do. */
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

static int sink(void *data, unsigned char *buffer, size_t size)
{
	return fwrite(buffer, 1, size, data) == size;
}

int main(int argc, char **argv)
{
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	yaml_document_t doc;
	FILE *in, *out;
	int ok;

	if (argc != 3) {
		fprintf(stderr, "usage: yaml_roundtrip IN OUT\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	out = fopen(argv[2], "wb");
	if (!in || !out) {
		perror("yaml_roundtrip");
		return 2;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, in);
	yaml_emitter_initialize(&emitter);
	yaml_emitter_set_output(&emitter, sink, out);
	yaml_emitter_set_unicode(&emitter, 1);
	yaml_emitter_set_width(&emitter, -1);
	ok = yaml_parser_load(&parser, &doc);
	if (ok && yaml_document_get_root_node(&doc)) {
		yaml_emitter_open(&emitter);
		ok = yaml_emitter_dump(&emitter, &doc);   /* frees doc */
		yaml_emitter_close(&emitter);
	} else if (ok) {
		yaml_document_delete(&doc);
	}
	yaml_emitter_delete(&emitter);
	yaml_parser_delete(&parser);
	fclose(in);
	if (fclose(out) || !ok) {
		fprintf(stderr, "yaml_roundtrip: failed\n");
		return 1;
	}
	return 0;
}
