/*  config.h: a service's settings, declared once as a table.

    Each row names a flag, its environment variable, a kind, a default, a
    range (numbers) or a set of choices (text), and one line of help. One
    walker (config.c) parses argv and the environment against the table
    (a flag wins over its variable, an empty variable counts as unset),
    refuses an unknown argument, a missing value or a value out of range
    with an error naming the flag (or the variable it came from), prints
    `--help`, and prints `--help-markdown`: the rows of the flags table in
    docs/operations.md, which scripts/flags_table.py checks (ctest
    flags_table). A row whose destination is NULL is read by the module
    that owns it (bus_security.c, rate_limit.c) under the same names; the
    table still makes it known, documented and checked for a value.
    Thread: call from main before starting threads. Memory: text values are
    borrowed from argv, the environment or the table.  */
#ifndef EASEL_CONFIG_H
#define EASEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where a stack's bus is unless told otherwise (easel up --bus tcp too). */
#define EASEL_API_ENDPOINT_DEFAULT    "tcp://127.0.0.1:5555"
#define EASEL_WORK_ENDPOINT_DEFAULT   "tcp://127.0.0.1:5556"
#define EASEL_EVENTS_ENDPOINT_DEFAULT "tcp://127.0.0.1:5557"
#define EASEL_DATA_DEFAULT            "./easel-data"
#define EASEL_LISTEN_DEFAULT          "127.0.0.1:8080"

#define CONFIG_ERR_MAX 320         /* size of the err buffer config_parse fills */

typedef enum {
    CONFIG_TEXT,                   /* any text; `choices` limits it when set */
    CONFIG_INT,                    /* a whole number in min..max */
    CONFIG_BOOL,                   /* bare flag, or 1/0, true/false, yes/no */
    CONFIG_ENDPOINT                /* a ZeroMQ endpoint: tcp://, ipc:// or inproc:// */
} config_kind_t;

typedef struct {
    const char *flag;              /* "--lease-ms"; NULL: a variable only */
    const char *env;               /* "EASEL_LEASE_MS"; NULL: a flag only */
    config_kind_t kind;
    const char *text;              /* TEXT, ENDPOINT: the default; NULL: unset */
    int64_t num;                   /* INT: the default */
    int64_t min, max;              /* INT: the accepted range */
    const char *choices;           /* TEXT: "auto|on|off", or NULL for any */
    const char *shown;             /* the default as documented, when not `text` / `num` */
    const char *help;              /* one line: what it sets */
    const char **out_text;         /* TEXT, ENDPOINT: gets the value (NULL when unset) */
    int64_t *out_num;              /* INT */
    bool *out_bool;                /* BOOL */
} config_opt_t;

typedef struct {
    const char *service;           /* "scheduler": the docs column */
    const char *program;           /* the usage line's command; NULL: "easel-" + service */
    const char *summary;           /* one line under the usage line */
    const config_opt_t *opts;
    size_t nopts;
} config_table_t;

#define CONFIG_TABLE(service_, summary_, rows_) \
    { .service = (service_), .summary = (summary_), .opts = (rows_), \
      .nopts = sizeof (rows_) / sizeof (rows_) [0] }

/* Rows several services share, one home each. */
#define CONFIG_API_ENDPOINT(out) \
    { .flag = "--api", .env = "EASEL_API_ENDPOINT", .kind = CONFIG_ENDPOINT, \
      .text = EASEL_API_ENDPOINT_DEFAULT, .help = "the scheduler's api socket", .out_text = (out) }
#define CONFIG_WORK_ENDPOINT(out) \
    { .flag = "--work", .env = "EASEL_WORK_ENDPOINT", .kind = CONFIG_ENDPOINT, \
      .text = EASEL_WORK_ENDPOINT_DEFAULT, .help = "the scheduler's work socket (renderers)", \
      .out_text = (out) }
#define CONFIG_EVENTS_ENDPOINT(out) \
    { .flag = "--events", .env = "EASEL_EVENTS_ENDPOINT", .kind = CONFIG_ENDPOINT, \
      .text = EASEL_EVENTS_ENDPOINT_DEFAULT, .help = "the scheduler's events PUB socket", \
      .out_text = (out) }
#define CONFIG_ALLOW_PRIVATE_HELP(out, help_) \
    { .flag = "--allow-private-networks", .env = "EASEL_ALLOW_PRIVATE_NETWORKS", \
      .kind = CONFIG_BOOL, .help = (help_), .out_bool = (out) }
#define CONFIG_ALLOW_PRIVATE(out) CONFIG_ALLOW_PRIVATE_HELP ((out), "`1` lets screenshots, pages " \
    "and webhook deliveries reach private and loopback addresses (tests, trusted networks)")
#define CONFIG_METRICS(out) \
    { .flag = "--metrics", .env = "EASEL_METRICS_LISTEN", .kind = CONFIG_TEXT, \
      .text = "", .shown = "off: no listener", .help = "`host:port` (at most 255 bytes, one address) serves `GET /metrics` in " \
      "the Prometheus text format on one civetweb thread; a malformed address stops the service " \
      "at start (exit 2), a busy one with exit 3", .out_text = (out) }

/* Parses argv[1..argc) and the environment into the table's destinations,
   each first set to its default. 0 parsed; 1 when argv asks for --help or
   --help-markdown (printed to out); -1 with err (CONFIG_ERR_MAX bytes)
   naming the flag or variable and what it accepts. On -1 destinations may
   be partly set. */
int  config_parse (const config_table_t *table, int argc, char **argv, FILE *out, char *err);

/* Prints the usage: the service, its summary, then each row's flag,
   variable, default, range and help. */
void config_usage (const config_table_t *table, FILE *out);

/* Prints one markdown row per table row:
   | service | flag | variable | default | range | help | */
void config_markdown (const config_table_t *table, FILE *out);

/* What every main calls: config_parse, exit 0 after help, log_fatal
   ("bad configuration", exit 2) with the reason on an error. */
void config_load (const config_table_t *table, int argc, char **argv);

#endif
