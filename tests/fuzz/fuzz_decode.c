/*  fuzz_decode.c: libFuzzer target for one proto decoder, chosen at build time
    with -DFUZZ_<NAME> (one executable per decoder, see proto/CMakeLists.txt).

    Property: decode never crashes or leaks; a rejected input has a reason; an
    accepted input re-encodes, and the re-encoding decodes again.  */
#include "proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NOFREE(x) ((void) (x))
#if defined(FUZZ_SLIDE)
#  define T proto_slide_t
#  define N slide
#  define F proto_slide_free
#elif defined(FUZZ_CREATE_RENDER)
#  define T proto_create_render_t
#  define N create_render
#  define F proto_create_render_free
#elif defined(FUZZ_GET)
#  define T proto_get_t
#  define N get
#  define F S_NOFREE
#elif defined(FUZZ_RENDER)
#  define T proto_render_t
#  define N render
#  define F proto_render_free
#elif defined(FUZZ_FILE)
#  define T proto_file_t
#  define N file
#  define F proto_file_free
#elif defined(FUZZ_ERRMSG)
#  define T proto_errmsg_t
#  define N errmsg
#  define F proto_errmsg_free
#elif defined(FUZZ_EVENTS_SINCE)
#  define T proto_events_since_t
#  define N events_since
#  define F S_NOFREE
#elif defined(FUZZ_EVENTS)
#  define T proto_events_t
#  define N events
#  define F proto_events_free
#elif defined(FUZZ_DELIVERY_REPORT)
#  define T proto_delivery_report_t
#  define N delivery_report
#  define F proto_delivery_report_free
#elif defined(FUZZ_SIMPLE)
#  define T proto_simple_t
#  define N simple
#  define F S_NOFREE
#elif defined(FUZZ_READY)
#  define T proto_ready_t
#  define N ready
#  define F S_NOFREE
#elif defined(FUZZ_TASK)
#  define T proto_task_t
#  define N task
#  define F proto_task_free
#elif defined(FUZZ_RESULT)
#  define T proto_result_t
#  define N result
#  define F proto_result_free
#elif defined(FUZZ_FAIL)
#  define T proto_fail_t
#  define N fail
#  define F proto_fail_free
#elif defined(FUZZ_WEBHOOK_REQ)
#  define T proto_webhook_req_t
#  define N webhook_req
#  define F proto_webhook_req_free
#elif defined(FUZZ_JSON)
#  define T proto_json_t
#  define N json
#  define F proto_json_free
#elif defined(FUZZ_IDEM_BEGIN)
#  define T proto_idem_begin_t
#  define N idem_begin
#  define F S_NOFREE
#elif defined(FUZZ_IDEM_COMPLETE)
#  define T proto_idem_complete_t
#  define N idem_complete
#  define F proto_idem_complete_free
#elif defined(FUZZ_CANCEL)
#  define T proto_cancel_t
#  define N cancel
#  define F S_NOFREE
#elif defined(FUZZ_LIST)
#  define T proto_list_t
#  define N list
#  define F S_NOFREE
#elif defined(FUZZ_BODY)
#  define T proto_body_t
#  define N body
#  define F proto_body_free
#elif defined(FUZZ_RENDER_LIST)
#  define T proto_render_list_t
#  define N render_list
#  define F proto_render_list_free
#elif defined(FUZZ_CANCEL_TASKS)
#  define T proto_cancel_tasks_t
#  define N cancel_tasks
#  define F proto_cancel_tasks_free
#elif defined(FUZZ_FILE_PUT)
#  define T proto_file_put_t
#  define N file_put
#  define F proto_file_put_free
#elif defined(FUZZ_FILE_FIND)
#  define T proto_file_find_t
#  define N file_find
#  define F S_NOFREE
#else
#  error "define one FUZZ_<DECODER>"
#endif

#define S_CAT3(a, b, c) a##b##c
#define S_FN(n, verb) S_CAT3 (proto_, n, verb)
#define DECODE S_FN (N, _decode)
#define ENCODE S_FN (N, _encode)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    T msg, again;
    char err [PROTO_ERR_MAX];
    if (DECODE ((const char *) data, size, &msg, err) != 0) {
        if (!err [0])
            abort ();              /* every rejection must say why */
        F (&msg);                  /* free is safe on a failed decode */
        return 0;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    if (ENCODE (&msg, &sb) != 0 || DECODE (sb.data, sb.size, &again, err) != 0) {
        fprintf (stderr, "accepted input did not round trip: %s\n", err);
        abort ();
    }
    F (&again);
    F (&msg);
    F (&msg);                      /* idempotent */
    msgpack_sbuffer_destroy (&sb);
    return 0;
}
