/* stats.c - the shared counters (stats.h).  One row per process (row 0 the
 * only process or the master, row N worker N), written only by its
 * process with relaxed atomics, summed by the reader: no locks, and a
 * worker that dies takes nothing with it the master cannot clear. */
#include "build-config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "host/host.h"
#include "host/stats.h"

#define STATS_ROWS 65	/* the master and up to 64 workers (workers.c) */

struct stats_row {
	_Atomic uint64_t active[STATS_SERVICES_MAX];
	_Atomic uint64_t accepted[STATS_SERVICES_MAX];
};

struct stats_page {
	double started;
	struct stats_row rows[STATS_ROWS];
};

static struct stats_page *page;
static char errbuf[128];

int stats_init(const char **error_r)
{
	void *p;

	if (page != NULL)
		return 0;
	p = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(errbuf, sizeof(errbuf), "cannot map the status counters: %s",
			 strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	page = p;
	page->started = (double)time(NULL);
	return 0;
}

double stats_started(void)
{
	return page != NULL ? page->started : 0;
}

static struct stats_row *my_row(void)
{
	unsigned int w = host_worker();

	return page != NULL && w < STATS_ROWS ? &page->rows[w] : NULL;
}

void stats_conn(unsigned int index, int delta)
{
	struct stats_row *row = my_row();

	if (row == NULL || index >= STATS_SERVICES_MAX)
		return;
	if (delta > 0) {
		atomic_fetch_add_explicit(&row->active[index], 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&row->accepted[index], 1, memory_order_relaxed);
	} else if (atomic_load_explicit(&row->active[index], memory_order_relaxed) > 0) {
		atomic_fetch_sub_explicit(&row->active[index], 1, memory_order_relaxed);
	}
}

void stats_worker_gone(unsigned int worker)
{
	if (page == NULL || worker >= STATS_ROWS)
		return;
	for (unsigned int i = 0; i < STATS_SERVICES_MAX; i++)
		atomic_store_explicit(&page->rows[worker].active[i], 0,
				      memory_order_relaxed);
}

static uint64_t sum(unsigned int index, bool active)
{
	uint64_t n = 0;

	if (page == NULL || index >= STATS_SERVICES_MAX)
		return 0;
	for (unsigned int r = 0; r < STATS_ROWS; r++)
		n += atomic_load_explicit(active ? &page->rows[r].active[index] :
					  &page->rows[r].accepted[index],
					  memory_order_relaxed);
	return n;
}

uint64_t stats_active(unsigned int index)
{
	return sum(index, true);
}

uint64_t stats_accepted(unsigned int index)
{
	return sum(index, false);
}
