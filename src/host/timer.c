/* timer.c - one-shot timers on the loop for modules (module API pn_timer). */
#include "build-config.h"

#include <stdlib.h>

#include <ev.h>

#include "host/host.h"
#include "lib/xalloc.h"
#include "postern/module.h"

struct pn_timer {
	ev_timer w;
	pn_timer_fn *fn;
	void *ctx;
};

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pn_timer *t = w->data;

	(void)loop;
	(void)revents;
	t->fn(t->ctx);
}

struct pn_timer *pn_timer_new(pn_timer_fn *fn, void *ctx)
{
	struct pn_timer *t = xcalloc(1, sizeof(*t));

	t->fn = fn;
	t->ctx = ctx;
	ev_init(&t->w, on_timer);
	t->w.data = t;
	return t;
}

void pn_timer_start(struct pn_timer *t, double seconds)
{
	ev_timer_stop(host_loop(), &t->w);
	ev_timer_set(&t->w, seconds > 0 ? seconds : 0., 0.);
	ev_timer_start(host_loop(), &t->w);
}

void pn_timer_stop(struct pn_timer *t)
{
	ev_timer_stop(host_loop(), &t->w);
}

void pn_timer_free(struct pn_timer **tp)
{
	struct pn_timer *t = *tp;

	if (t == NULL)
		return;
	ev_timer_stop(host_loop(), &t->w);
	free(t);
	*tp = NULL;
}

double pn_now(void)
{
	return ev_now(host_loop());
}
