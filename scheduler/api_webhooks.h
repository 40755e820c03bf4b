/*  api_webhooks.h: webhooks on the api socket. EVENTS_SINCE and
    DELIVERY_REPORT are the webhooker's (events with their pending
    deliveries; a delivery's outcome); DELIVERIES_GET, REDELIVER,
    WEBHOOK_TEST and WEBHOOK_ACCOUNT are an account's webhook management,
    answered by webhook_admin.h, a redelivery or test event hinted on the
    events socket after the commit so the webhooker fetches it at once.
    Thread: the scheduler's loop, in the pass's transaction. */
#ifndef EASEL_API_WEBHOOKS_H
#define EASEL_API_WEBHOOKS_H

#include "api.h"

void api_webhooks_events_since (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_webhooks_delivery_report (scheduler_t *self, zframe_t *identity, const char *data, size_t len);
void api_webhooks_admin (scheduler_t *self, zframe_t *identity, int cmd, const char *data, size_t len);

#endif
