/* kf_sha256: SHA-256 (FIPS 180-4), for content addresses and cache keys. */
#ifndef KF_SHA256_H
#define KF_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define KF_SHA256_HEX_LEN 64

struct kf_err;

struct kf_sha256 {
	uint32_t h[8];
	uint64_t total;
	unsigned char block[64];
	size_t used;
};

void kf_sha256_init(struct kf_sha256 *s);
void kf_sha256_update(struct kf_sha256 *s, const void *data, size_t len);
void kf_sha256_final(struct kf_sha256 *s, unsigned char digest[32]);
/* Lowercase hex of the digest, hex must hold KF_SHA256_HEX_LEN + 1 bytes. */
void kf_sha256_final_hex(struct kf_sha256 *s, char *hex);
void kf_sha256_hex(const void *data, size_t len, char *hex);
/* Digest of a regular file's bytes. */
int kf_sha256_file(const char *path, char *hex, struct kf_err *err);

#endif
