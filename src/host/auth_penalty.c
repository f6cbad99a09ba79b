/* auth_penalty.c - per-address failed-login penalty. */
#include "build-config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "host/auth_penalty.h"
#include "lib/xalloc.h"

#define PENALTY_BUCKETS 4096
#define PENALTY_MAX 65536	/* addresses remembered at most */
#define PENALTY_CAP_MS 15000

struct penalty {
	struct penalty *next;
	unsigned int count;
	double last;
	char ip[INET6_ADDRSTRLEN + 4];	/* a limit key: IPv4, or IPv6 /64 */
};

static struct penalty *buckets[PENALTY_BUCKETS];
static unsigned int entries;

static unsigned int hash_ip(const char *ip)
{
	uint32_t h = 2166136261u;

	for (; *ip; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % PENALTY_BUCKETS;
}

static struct penalty **find(const char *ip)
{
	struct penalty **pp = &buckets[hash_ip(ip)];

	while (*pp != NULL && strcmp((*pp)->ip, ip) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void drop(struct penalty **pp)
{
	struct penalty *p = *pp;

	*pp = p->next;
	free(p);
	entries--;
}

/* Forget expired entries of one bucket (called as we pass by). */
static void expire_bucket(unsigned int b, unsigned int window_s, double now)
{
	struct penalty **pp = &buckets[b];

	while (*pp != NULL) {
		if (now - (*pp)->last > window_s)
			drop(pp);
		else
			pp = &(*pp)->next;
	}
}

unsigned int auth_penalty_fail(const char *ip, unsigned int base_ms,
			       unsigned int window_s, double now)
{
	unsigned int b = hash_ip(ip), delay = base_ms;
	struct penalty **pp, *p;

	expire_bucket(b, window_s, now);
	pp = find(ip);
	if (*pp == NULL) {
		if (entries >= PENALTY_MAX)
			return base_ms;	/* full: still delay, just do not grow */
		p = xcalloc(1, sizeof(*p));
		snprintf(p->ip, sizeof(p->ip), "%s", ip);
		*pp = p;
		entries++;
	}
	p = *pp;
	p->count++;
	p->last = now;
	for (unsigned int i = 1; i < p->count && delay < PENALTY_CAP_MS; i++)
		delay *= 2;
	return delay > PENALTY_CAP_MS ? PENALTY_CAP_MS : delay;
}

void auth_penalty_clear(const char *ip)
{
	struct penalty **pp = find(ip);

	if (*pp != NULL)
		drop(pp);
}

void auth_penalty_free_all(void)
{
	for (unsigned int b = 0; b < PENALTY_BUCKETS; b++) {
		while (buckets[b] != NULL)
			drop(&buckets[b]);
	}
}
