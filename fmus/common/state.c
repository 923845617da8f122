/* state.c -- FMU state: a heap copy of the Model (variables, internal states, flags), and its
 * serialization (a header, the instantiation token and the Model bytes, so a serialized state
 * can be restored into any instance of the same FMU build). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
    const VarInfo *owner; /* identifies the model (and the loaded binary) */
    Model m;
    bool terminate_reported;
} Snapshot;

static const char SER_MAGIC[16] = "cosim-fmustate2";

Status core_get_fmu_state(Instance *inst, const char *fn, void **state) {
    if (!core_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    if (!state) return core_error(inst, "%s: FMUstate pointer is NULL", fn);
    Snapshot *s = *state;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return core_error(inst, "%s: out of memory", fn);
    } else if (s->owner != VARS) {
        return core_error(inst, "%s: the given FMUstate does not belong to %s", fn, MODEL_NAME);
    }
    s->owner = VARS;
    s->m = inst->m;
    s->terminate_reported = inst->terminate_reported;
    *state = s;
    return ST_OK;
}

Status core_set_fmu_state(Instance *inst, const char *fn, const void *state) {
    if (!core_allowed(inst, fn, MODE_ANY & ~MODE_TERMINATED)) return ST_ERROR;
    const Snapshot *s = state;
    if (!s || s->owner != VARS)
        return core_error(inst, "%s: the given FMUstate does not belong to %s", fn, MODEL_NAME);
    inst->m = s->m;
    inst->terminate_reported = s->terminate_reported;
    if (inst->mode == MODE_ERROR) inst->mode = inst->is_cs ? MODE_STEP : MODE_CONT;
    return ST_OK;
}

Status core_free_fmu_state(Instance *inst, const char *fn, void **state) {
    if (!inst) return ST_ERROR;
    (void)fn;
    if (state && *state) {
        ((Snapshot *)*state)->owner = NULL;
        free(*state);
        *state = NULL;
    }
    return ST_OK;
}

size_t core_serialized_size(void) {
    return sizeof SER_MAGIC + sizeof INSTANTIATION_TOKEN + sizeof(Model) + sizeof(bool);
}

Status core_serialize(Instance *inst, const char *fn, const void *state, unsigned char *buf,
                      size_t size) {
    if (!core_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    const Snapshot *s = state;
    if (!s || s->owner != VARS)
        return core_error(inst, "%s: the given FMUstate does not belong to %s", fn, MODEL_NAME);
    if (!buf || core_check_count(inst, fn, size, core_serialized_size(), "the buffer"))
        return ST_ERROR;
    unsigned char *p = buf;
    memcpy(p, SER_MAGIC, sizeof SER_MAGIC);
    p += sizeof SER_MAGIC;
    memcpy(p, INSTANTIATION_TOKEN, sizeof INSTANTIATION_TOKEN);
    p += sizeof INSTANTIATION_TOKEN;
    memcpy(p, &s->m, sizeof(Model));
    p += sizeof(Model);
    memcpy(p, &s->terminate_reported, sizeof(bool));
    return ST_OK;
}

Status core_deserialize(Instance *inst, const char *fn, const unsigned char *buf, size_t size,
                        void **state) {
    if (!core_allowed(inst, fn, MODE_ANY)) return ST_ERROR;
    if (!buf || size != core_serialized_size() ||
        memcmp(buf, SER_MAGIC, sizeof SER_MAGIC) != 0 ||
        memcmp(buf + sizeof SER_MAGIC, INSTANTIATION_TOKEN, sizeof INSTANTIATION_TOKEN) != 0)
        return core_error(inst, "%s: the serialized state does not belong to %s", fn, MODEL_NAME);
    if (!state) return core_error(inst, "%s: FMUstate pointer is NULL", fn);
    void *s = *state;
    if (core_get_fmu_state(inst, fn, &s) != ST_OK) return ST_ERROR;
    const unsigned char *p = buf + sizeof SER_MAGIC + sizeof INSTANTIATION_TOKEN;
    memcpy(&((Snapshot *)s)->m, p, sizeof(Model));
    memcpy(&((Snapshot *)s)->terminate_reported, p + sizeof(Model), sizeof(bool));
    *state = s;
    return ST_OK;
}
