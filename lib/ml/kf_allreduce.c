/* kf_allreduce: star allreduce over TCP. */
#include "config.h"

#include "ml/kf_allreduce.h"
#include "util/kf_err.h"
#include "util/kf_mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TRIES 600   /* every 100 ms: a minute */

struct kf_allreduce {
	int rank, world;
	int hub_fd;       /* participant: connection to the hub (-1 on rank-0 hub) */
	int *peers;       /* rank-0 hub: fd of rank r at peers[r], r >= 1 */
	double *tmp;
	size_t tmp_cap;
};

static int parse_addr(const char *addr, struct sockaddr_in *sa, struct kf_err *err)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	long port;

	memset(sa, 0, sizeof *sa);
	if (!colon || (size_t)(colon - addr) >= sizeof host || (port = strtol(colon + 1, NULL, 10)) <= 0 || port > 65535)
		return kf_err_set(err, KF_EINPUT, "bad address \"%s\" (expected HOST:PORT)", addr);
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return kf_err_set(err, KF_EINPUT, "address \"%s\": only IPv4 addresses are supported locally", addr);
	return 0;
}

static int io_all(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int listen_on(const char *addr, int backlog, struct kf_err *err)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if (parse_addr(addr, &sa, err) < 0)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		kf_err_sys(err, "socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0) {
		kf_err_sys(err, "allreduce: listen on %s", addr);
		close(fd);
		return -1;
	}
	return fd;
}

/* Accept world-1 (or world) participants; each first sends its rank. */
static int accept_ranks(int lfd, int *peers, int first, int world, struct kf_err *err)
{
	int got = 0, want = world - first;

	while (got < want) {
		int fd = accept(lfd, NULL, NULL);
		uint32_t r;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return kf_err_sys(err, "allreduce: accept");
		}
		if (io_all(fd, &r, sizeof r, 0) < 0 || (int)r < first || (int)r >= world || peers[r] >= 0) {
			close(fd);
			return kf_err_set(err, KF_EFAIL, "allreduce: a peer sent a bad or duplicate rank");
		}
		nodelay(fd);
		peers[r] = fd;
		got++;
	}
	return 0;
}

static int connect_hub(const char *hub, int rank, struct kf_err *err)
{
	struct sockaddr_in sa;
	uint32_t r = (uint32_t)rank;
	int i;

	if (parse_addr(hub, &sa, err) < 0)
		return -1;
	for (i = 0; i < CONNECT_TRIES; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct timespec ts = { 0, 100 * 1000 * 1000 };

		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			nodelay(fd);
			if (io_all(fd, &r, sizeof r, 1) < 0) {
				close(fd);
				break;
			}
			return fd;
		}
		close(fd);
		nanosleep(&ts, NULL);
	}
	kf_err_set(err, KF_EENV, "allreduce: cannot reach the hub at %s", hub);
	return -1;
}

int kf_allreduce_open(struct kf_allreduce **out, const char *hub, int hub_is_rank0, int rank,
		      int world, struct kf_err *err)
{
	struct kf_allreduce *a = kf_xcalloc(1, sizeof *a);
	int i;

	*out = NULL;
	a->rank = rank;
	a->world = world;
	a->hub_fd = -1;
	if (hub_is_rank0 && rank == 0) {
		int lfd = listen_on(hub, world, err);

		if (lfd < 0)
			goto fail;
		a->peers = kf_xmalloc((size_t)world * sizeof *a->peers);
		for (i = 0; i < world; i++)
			a->peers[i] = -1;
		i = accept_ranks(lfd, a->peers, 1, world, err);
		close(lfd);
		if (i < 0)
			goto fail;
	} else if ((a->hub_fd = connect_hub(hub, rank, err)) < 0) {
		goto fail;
	}
	*out = a;
	return 0;
fail:
	kf_allreduce_close(a);
	return err->code ? err->code : KF_EFAIL;
}

static int send_vec(int fd, const double *v, size_t n)
{
	uint64_t len = n;

	return io_all(fd, &len, sizeof len, 1) < 0 || io_all(fd, (void *)v, n * sizeof *v, 1) < 0 ? -1 : 0;
}

static int recv_vec(int fd, double *v, size_t n)
{
	uint64_t len;

	if (io_all(fd, &len, sizeof len, 0) < 0 || len != n)
		return -1;
	return io_all(fd, v, n * sizeof *v, 0);
}

/* Add peers[first..world) into v (which holds rank 0's part, or own's
 * when given), then send the sum back to them. */
static int hub_round(int *peers, int first, int world, double *v, const double *own, double *tmp, size_t n)
{
	size_t k;
	int r;

	if (own)
		memcpy(v, own, n * sizeof *v);
	for (r = first; r < world; r++) {
		if (recv_vec(peers[r], tmp, n) < 0)
			return -1;
		for (k = 0; k < n; k++)
			v[k] += tmp[k];
	}
	for (r = first; r < world; r++)
		if (send_vec(peers[r], v, n) < 0)
			return -1;
	return 0;
}

int kf_allreduce_sum(struct kf_allreduce *a, double *v, size_t n, struct kf_err *err)
{
	if (a->world <= 1)
		return 0;
	if (a->tmp_cap < n) {
		free(a->tmp);
		a->tmp = kf_xmalloc(n * sizeof *a->tmp);
		a->tmp_cap = n;
	}
	if (a->peers) {
		/* own contribution first: rank order 0, 1, ... */
		if (hub_round(a->peers, 1, a->world, v, NULL, a->tmp, n) < 0)
			return kf_err_set(err, KF_EFAIL, "allreduce: a worker went away");
		return 0;
	}
	if (send_vec(a->hub_fd, v, n) < 0 || recv_vec(a->hub_fd, v, n) < 0)
		return kf_err_set(err, KF_EFAIL, "allreduce: lost the connection to the hub");
	return 0;
}

void kf_allreduce_close(struct kf_allreduce *a)
{
	int i;

	if (!a)
		return;
	if (a->hub_fd >= 0)
		close(a->hub_fd);
	for (i = 1; a->peers && i < a->world; i++)
		if (a->peers[i] >= 0)
			close(a->peers[i]);
	free(a->peers);
	free(a->tmp);
	free(a);
}

int kf_allreduce_serve(const char *addr, int world, struct kf_err *err)
{
	int *peers = kf_xmalloc((size_t)(world > 0 ? world : 1) * sizeof *peers);
	int lfd, i, rc;
	double *v = NULL;
	size_t cap = 0;

	for (i = 0; i < world; i++)
		peers[i] = -1;
	lfd = listen_on(addr, world, err);
	if (lfd < 0) {
		free(peers);
		return err->code;
	}
	rc = accept_ranks(lfd, peers, 0, world, err);
	close(lfd);
	while (rc == 0) {
		uint64_t len;

		/* The round's size comes from rank 0; the others must match. */
		if (io_all(peers[0], &len, sizeof len, 0) < 0)
			break;   /* training finished: participants closed */
		if (len > cap) {
			free(v);
			cap = (size_t)len;
			v = kf_xmalloc(cap * sizeof *v);
		}
		if (io_all(peers[0], v, (size_t)len * sizeof *v, 0) < 0) {
			rc = kf_err_set(err, KF_EFAIL, "allreduce: a worker went away");
			break;
		}
		{
			double *part = kf_xmalloc(((size_t)len + 1) * sizeof *part);
			size_t k;
			int r;

			for (r = 1; r < world && rc == 0; r++) {
				if (recv_vec(peers[r], part, (size_t)len) < 0)
					rc = kf_err_set(err, KF_EFAIL, "allreduce: a worker went away");
				for (k = 0; rc == 0 && k < len; k++)
					v[k] += part[k];
			}
			free(part);
			for (r = 0; r < world && rc == 0; r++)
				if (send_vec(peers[r], v, (size_t)len) < 0)
					rc = kf_err_set(err, KF_EFAIL, "allreduce: a worker went away");
		}
	}
	for (i = 0; i < world; i++)
		if (peers[i] >= 0)
			close(peers[i]);
	free(peers);
	free(v);
	return rc;
}
