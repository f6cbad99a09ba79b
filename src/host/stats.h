/* stats.h - counts every serving process keeps for the status page (the
 * web admin's GET /api/status): open connections and connections taken
 * since start, per module.  They live in one page of memory the master
 * maps shared before it forks, one row per process, so whichever worker
 * answers a status request sees the whole server. */
#ifndef PN_STATS_H
#define PN_STATS_H

#include <stdint.h>

/* As many modules as a configuration may name with a counted service. */
#define STATS_SERVICES_MAX 16

/* Map the counters (before any fork); -1 with *error_r when the memory
 * cannot be had. */
int stats_init(const char **error_r);
/* The time stats_init ran: when the server started. */
double stats_started(void);
/* A connection of service `index` (the module's place in `modules`)
 * opened (+1) or closed (-1) in this process. */
void stats_conn(unsigned int index, int delta);
/* A worker ended: its open connections are gone with it. */
void stats_worker_gone(unsigned int worker);
/* Over every process. */
uint64_t stats_active(unsigned int index);
uint64_t stats_accepted(unsigned int index);

#endif
