/*  job_kind.c: the job kinds (see job_kind.h).
    Thread: any. Memory: static data only. */
#include "job_kind.h"
#include "proto.h"

#include <string.h>

const job_kind_t job_kinds [JOB_KINDS] = {
    [JOB_RENDER]  = { JOB_RENDER,  "render", "rnd_", "POST /v1/renders", PROTO_CREATE_RENDER,  "render." },
    [JOB_CAPTURE] = { JOB_CAPTURE, "job",    "job_", "POST /v1/capture", PROTO_CREATE_CAPTURE, "job." },
};

const job_kind_t *
job_kind_of_id (const char *id)
{
    for (int k = 0; id && k < JOB_KINDS; k++)
        if (strncmp (id, job_kinds [k].prefix, strlen (job_kinds [k].prefix)) == 0)
            return &job_kinds [k];
    return NULL;
}
