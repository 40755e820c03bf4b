/*  easel_limits.h: every cap and timeout Easel enforces, in one place, units in the name.
    Shared by every service; changing one here changes it everywhere.  */
#ifndef EASEL_LIMITS_H
#define EASEL_LIMITS_H

/* Bus */
#define EASEL_PROTO_VERSION          1
#define EASEL_PROTO_TAG              "EASEL1"
#define EASEL_MAX_MSG_BYTES          (64 * 1024 * 1024)   /* one bus message */
#define EASEL_BUS_HWM                100000
#define EASEL_HEARTBEAT_MS           1000
#define EASEL_PEER_DEAD_MS           3000
#define EASEL_RECONNECT_MIN_MS       1000
#define EASEL_RECONNECT_MAX_MS       32000
#define EASEL_REQUEST_TIMEOUT_MS     5000    /* gateway/webhooker wait for a scheduler reply */
#define EASEL_MAX_MSG_ITEMS          (1 << 18)  /* msgpack items (keys, values) in one body */
#define EASEL_MAX_ERROR_TEXT_BYTES   4096    /* an error's message/param, a delivery error */
#define EASEL_MAX_SECRET_BYTES       256     /* a webhook signing secret on the bus */
#define EASEL_RENDERER_SLOTS_MAX     256     /* tasks one renderer may announce (READY) */
#define EASEL_TASK_CREDITS_MAX       100     /* price of one task (RESULT credits) */
#define EASEL_PADDING_PM_MAX         300     /* slide side padding, per mille of the width */
#define EASEL_FONT_WEIGHT_MAX        900

/* Scheduler */
#define EASEL_LEASE_MS               120000  /* a leased task not finished by then is requeued */
#define EASEL_MAX_ATTEMPTS           3       /* after this many attempts a task fails for good */
#define EASEL_GROUP_MAX_MSGS         512     /* messages applied in one grouped transaction */
#define EASEL_EVENTS_PAGE_MAX        100     /* events returned by one EVENTS_SINCE */
#define EASEL_FILE_URL_TTL_S         (7 * 24 * 3600)  /* signed file URLs expire after */
/* Signed URLs (files, review links) expire at the end of the signing
   window they were signed in plus their TTL, so every answer of one render
   inside one window is the same bytes, whoever built it (the scheduler's
   GET_RENDER or a gateway's render state): valid for TTL to TTL + window. */
#define EASEL_SIGN_WINDOW_S          60
/* the render state stream carries renders of at most this many images */
#define EASEL_STATE_IMAGES_MAX       64
/* A gateway's read lease on that stream: the scheduler holds a pass's
   replies until every lease holder acknowledged the pass's state seq, at
   most this long (a holder that stopped acknowledging lapses by then). */
#define EASEL_READ_LEASE_MS          2000
/* a gateway renews its lease this often when the stream is quiet */
#define EASEL_READ_LEASE_RENEW_MS    (EASEL_READ_LEASE_MS / 4)
/* and trusts it this much less than granted (clock rates, scheduling) */
#define EASEL_READ_LEASE_MARGIN_MS   100
#define EASEL_SIGN_WINDOW(now_ms)    ((int64_t) (now_ms) / 1000 / EASEL_SIGN_WINDOW_S)
#define EASEL_SIGNED_EXP(now_ms, ttl_s) \
    ((EASEL_SIGN_WINDOW (now_ms) + 1) * EASEL_SIGN_WINDOW_S + (int64_t) (ttl_s))

/* Which drawing an image cache key belongs to: an image whose spec (after
   substitution, its inline or uploaded sources named by sha256) is
   identical to an earlier one of the same account is served from it
   (0 credits) only under the same EASEL_RENDER_VERSION. Bump it with any
   change that alters pixels for the same spec (the golden_defaults test
   is where such a change shows). */
#define EASEL_RENDER_VERSION "2026.12.1"
#define EASEL_REVIEW_URL_TTL_S       (7 * 24 * 3600)  /* signed review links expire after */
#define EASEL_REVIEW_LINK_TTL_MIN_S  60                /* a minted review link lives at least */
#define EASEL_REVIEW_LINK_TTL_MAX_S  (30 * 24 * 3600)  /* and at most */
#define EASEL_REVIEW_COMMENT_MAX     2000    /* a review decision's comment, UTF-8 bytes */
#define EASEL_REVIEW_BY_MAX          100     /* the reviewer's name, UTF-8 bytes */
#define EASEL_RETENTION_S            (30 * 24 * 3600) /* final renders/jobs kept (flag) */
#define EASEL_STORAGE_QUOTA_BYTES    (10LL * 1024 * 1024 * 1024)  /* per account (flag) */
#define EASEL_FILE_LOCATION_MAX      1536    /* a FILE reply's redirect URL (a presigned GET) */
#define EASEL_BLOB_REDIRECT_S        300     /* a presigned file redirect's lifetime (flag) */
#define EASEL_UPLOAD_URL_S           120     /* a gateway's presigned upload (PUT, DELETE) lives this long */
#define EASEL_UPLOAD_TIMEOUT_MS      30000   /* the gateway's PUT of an upload to the object store */
#define EASEL_UPLOAD_CONNECT_TIMEOUT_MS 3000

/* HTTP input */
#define EASEL_MAX_BODY_BYTES         (25 * 1024 * 1024)
#define EASEL_MAX_SLIDES             10
#define EASEL_MAX_IMAGES_PER_RENDER  500
#define EASEL_MAX_LOCALES            40      /* matrix.locales of one render */
#define EASEL_MAX_MATRIX_PRESETS     32      /* matrix.presets of one render */
#define EASEL_MAX_FILES_PER_RENDER   64      /* distinct uploaded file ids one render names */
#define EASEL_SYNC_MAX_IMAGES        10      /* over this without async: 422 use_async */
#define EASEL_SYNC_WAIT_MS           60000   /* a sync render answers 202 after this */
#define EASEL_MAX_HEADLINE_LINES     4
#define EASEL_MAX_HEADLINE_BYTES     200     /* per line, UTF-8 bytes */
#define EASEL_MAX_URL_BYTES          2048
#define EASEL_MAX_PRESIGNED_URL_BYTES 4096   /* an object store URL the scheduler signs for a renderer */
#define EASEL_MAX_METADATA_BYTES     4096
#define EASEL_MAX_CANVAS_SIDE_PX     8192
#define EASEL_MIN_CANVAS_SIDE_PX     100
#define EASEL_MAX_FINDINGS_BYTES     16384   /* lint findings of one image, JSON */
#define EASEL_MAX_JSON_DEPTH         32      /* nested arrays/objects in any JSON a client sends */
#define EASEL_MAX_JSON_VALUES        100000  /* values (elements, members) in one JSON body */
#define EASEL_KEY_CACHE_TTL_MS       5000    /* gateway: a key the scheduler accepted is trusted this long (flag) */
#define EASEL_KEY_CACHE_NEGATIVE_TTL_MS 1000 /* gateway: an unknown key is refused this long without asking */

/* Idempotency, credits, lists, long-poll */
#define EASEL_IDEMPOTENCY_KEY_MAX    255     /* Idempotency-Key: 1..255 printable ASCII */
#define EASEL_IDEMPOTENCY_TTL_S      86400   /* keys kept at least this long (scheduler flag) */
#define EASEL_IDEMPOTENCY_BODY_MAX   (4 * 1024 * 1024)   /* a stored response */
#define EASEL_IDEMPOTENCY_HOLD_MARGIN_MS 10000   /* in flight past the sync wait: then 202 */
#define EASEL_LIST_LIMIT_DEFAULT     10
#define EASEL_LIST_LIMIT_MAX         100
#define EASEL_WAIT_MAX_S             60      /* GET /v1/renders/{id}?wait= */
#define EASEL_LEDGER_SHOWN           20      /* ledger entries in GET /v1/account */

/* Gateway connections (civetweb: one thread per connection, 100 KB stacks in
   Debian's build) and waiting requests */
#define EASEL_GATEWAY_THREADS        4096    /* --threads: connections served at once */
#define EASEL_GATEWAY_THREADS_MAX    16384
#define EASEL_HEADER_TIMEOUT_MS      5000    /* a request's headers must arrive within */
#define EASEL_KEEP_ALIVE_S           5       /* idle kept-alive connection; advertised */
#define EASEL_CONNECTION_QUEUE       1024    /* accepted sockets waiting for a thread */
#define EASEL_LISTEN_BACKLOG         4096
#define EASEL_API_POOL_SIZE          64      /* bus clients shared by all request threads */
#define EASEL_MAX_WAITERS            2048    /* sync renders + ?wait= long polls at once */

/* Scheduler fairness */
#define EASEL_ACCOUNT_LEASE_CAP      64      /* tasks of one account leased while others wait */

/* Source images */
#define EASEL_MAX_SOURCE_BYTES       (20 * 1024 * 1024)
#define EASEL_MAX_SOURCE_PIXELS      (40 * 1000 * 1000)
#define EASEL_FETCH_TIMEOUT_MS       20000
#define EASEL_FETCH_CONNECT_TIMEOUT_MS 5000

/* Webhooks */
#define EASEL_WEBHOOK_TIMEOUT_MS     15000
#define EASEL_WEBHOOK_RESPONSE_KEEP_BYTES 1024
#define EASEL_WEBHOOK_MAX_ATTEMPTS   8       /* first try + 7 retries (CONTRACT 6) */
#define EASEL_WEBHOOK_PER_HOST       4       /* concurrent requests to one host:port (flag) */
#define EASEL_WEBHOOK_PER_HOST_MAX   256
#define EASEL_WEBHOOK_MIN_RETRY_MS   60000   /* least wait after a timeout or a 429 (flag) */
#define EASEL_WEBHOOK_TIMEOUT_MIN_MS 100     /* --timeout-ms range */
#define EASEL_WEBHOOK_TIMEOUT_MAX_MS 120000
#define EASEL_WEBHOOK_LIST_MAX       100     /* attempts one deliveries list shows */
#define EASEL_WEBHOOK_OVERLAP_S      86400   /* secret rotation: the old one's default overlap */
#define EASEL_WEBHOOK_OVERLAP_MAX_S  (30 * 24 * 3600)

#endif
