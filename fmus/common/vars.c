/* vars.c -- typed access to the model's variables for the FMI get/set functions.
 *
 * Each variable is stored in its own C type (see model.h); a get/set call names value
 * references and passes the values flattened: an array contributes all its current elements
 * in row-major order, so n_values is the sum of the element counts.  Values are checked
 * before they are stored: enumeration items, structural-parameter ranges, string and binary
 * capacities. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *type_name(VarType type, int fmi_version) {
    static const char *const fmi3[] = {"Float32", "Float64", "Int8", "UInt8", "Int16",
                                       "UInt16", "Int32", "UInt32", "Int64", "UInt64",
                                       "Boolean", "String", "Binary", "Enumeration", "Clock"};
    if (fmi_version == 2) {
        switch (type) {
        case T_FLOAT64: return "Real";
        case T_INT32: return "Integer";
        default: break;
        }
    }
    return fmi3[type];
}

static const char *api_name(ApiType api) {
    static const char *const names[] = {"Float32", "Float64", "Int8", "UInt8", "Int16",
                                        "UInt16", "Int32", "UInt32", "Int64", "UInt64",
                                        "Boolean", "String", "Binary", "Clock", "Boolean",
                                        "Integer"};
    return names[api];
}

static size_t elem_size(VarType type) {
    switch (type) {
    case T_FLOAT32: return sizeof(float);
    case T_INT8: case T_UINT8: return 1;
    case T_INT16: case T_UINT16: return 2;
    case T_INT32: case T_UINT32: return 4;
    case T_BOOLEAN: case T_CLOCK: return sizeof(bool);
    case T_STRING: case T_BINARY: return 0; /* not arrays */
    default: return 8; /* Float64, (U)Int64, Enumeration */
    }
}

size_t vars_count(const Vars *v, unsigned vr) {
    const VarInfo *var = &VARS[vr];
    size_t n = 1;
    for (int d = 0; d < var->ndims; d++)
        n *= var->dim_vr[d] >= 0 ? (size_t)*(const uint64_t *)var_cptr(v, var->dim_vr[d])
                                 : (size_t)var->dim_size[d];
    return n;
}

size_t core_count(const Instance *inst, unsigned vr) {
    return vr < NV ? vars_count(&inst->m.v, vr) : 0;
}

void core_resize_arrays(Instance *inst) {
    Vars *v = &inst->m.v;
    for (unsigned vr = 0; vr < NV; vr++) {
        if (VARS[vr].ndims == 0) continue;
        const size_t n = vars_count(v, vr);
        if (n == inst->config_counts[vr]) continue;
        const size_t bytes = n * elem_size(VARS[vr].type);
        if (n == vars_count(&START, vr)) memcpy(var_ptr(v, vr), var_cptr(&START, vr), bytes);
        else memset(var_ptr(v, vr), 0, bytes);
    }
}

static bool compatible(ApiType api, VarType type) {
    switch (api) {
    case API_INT64: return type == T_INT64 || type == T_ENUMERATION;
    case API_INT2: return type == T_INT32 || type == T_ENUMERATION;
    case API_BOOL2: case API_BOOL3: return type == T_BOOLEAN;
    case API_STRING: return type == T_STRING;
    case API_BINARY: return type == T_BINARY;
    case API_CLOCK: return type == T_CLOCK;
    default: return (int)api == (int)type; /* Float32 ... UInt64 share their numbering */
    }
}

static bool check_var(Instance *inst, const char *fn, unsigned vr, ApiType api) {
    if (vr >= NV || (inst->fmi_version == 2 && !VARS[vr].fmi2)) {
        core_error(inst, "%s: unknown value reference %u", fn, vr);
        return false;
    }
    if (!compatible(api, VARS[vr].type)) {
        core_error(inst, "%s: variable '%s' (vr %u) is of type %s, not %s", fn, VARS[vr].name,
                   vr, type_name(VARS[vr].type, inst->fmi_version), api_name(api));
        return false;
    }
    return true;
}

static bool can_set(Instance *inst, const char *fn, unsigned vr) {
    const VarInfo *var = &VARS[vr];
    const Mode mode = inst->mode;
    const bool tunable = var->variability == V_TUNABLE;
    const char *what = "input";
    bool ok;
    switch (var->causality) {
    case C_STRUCTURAL:
        ok = mode == MODE_CONFIG || (mode == MODE_RECONFIG && tunable);
        what = tunable ? "tunable structural parameter: set it in (Re)Configuration Mode"
                       : "fixed structural parameter: set it in Configuration Mode";
        break;
    case C_PARAMETER:
        ok = (mode & (MODE_INSTANTIATED | MODE_INIT)) ||
             (tunable && (mode & (MODE_EVENT | MODE_STEP)));
        what = tunable ? "tunable parameter" : "fixed parameter";
        break;
    case C_INPUT:
        ok = var->type == T_CLOCK
                 ? mode == MODE_EVENT
                 : (mode & (MODE_INSTANTIATED | MODE_INIT | MODE_EVENT | MODE_CONT | MODE_STEP));
        what = var->type == T_CLOCK ? "input clock" : "input";
        break;
    default:
        core_error(inst, "%s: variable '%s' (vr %u) is calculated by the FMU and cannot be set",
                   fn, var->name, vr);
        return false;
    }
    if (!ok)
        core_error(inst, "%s: variable '%s' (vr %u, %s) cannot be set in %s", fn, var->name, vr,
                   what, core_mode_name(mode));
    return ok;
}

/* element count of all value references, after checking each; SIZE_MAX on error */
static size_t total_count(Instance *inst, const char *fn, const unsigned vr[], size_t nvr,
                          ApiType api, bool set) {
    size_t total = 0;
    for (size_t i = 0; i < nvr; i++) {
        if (!check_var(inst, fn, vr[i], api) || (set && !can_set(inst, fn, vr[i])))
            return SIZE_MAX;
        total += core_count(inst, vr[i]);
    }
    return total;
}

static Status check_total(Instance *inst, const char *fn, size_t total, size_t n_values,
                          size_t nvr) {
    if (total == SIZE_MAX) return ST_ERROR;
    if (total == n_values) return ST_OK;
    return core_error(inst, "%s: nValues = %zu for %zu value reference(s), expected %zu (an array "
                      "counts all its elements, row-major)", fn, n_values, nvr, total);
}

#define COPY_OUT(CT, ST) \
    for (size_t j = 0; j < n; j++) ((CT *)values)[k + j] = (CT)((const ST *)src)[j]; \
    break

static void copy_out(const Vars *v, unsigned vr, ApiType api, void *values, size_t k, size_t n,
                     size_t sizes[]) {
    const void *src = var_cptr(v, vr);
    switch (api) {
    case API_FLOAT32: COPY_OUT(float, float);
    case API_FLOAT64: COPY_OUT(double, double);
    case API_INT8: COPY_OUT(int8_t, int8_t);
    case API_UINT8: COPY_OUT(uint8_t, uint8_t);
    case API_INT16: COPY_OUT(int16_t, int16_t);
    case API_UINT16: COPY_OUT(uint16_t, uint16_t);
    case API_INT32: COPY_OUT(int32_t, int32_t);
    case API_UINT32: COPY_OUT(uint32_t, uint32_t);
    case API_INT64: COPY_OUT(int64_t, int64_t); /* also Enumeration (stored as int64_t) */
    case API_UINT64: COPY_OUT(uint64_t, uint64_t);
    case API_BOOL3: case API_CLOCK: COPY_OUT(bool, bool);
    case API_BOOL2: COPY_OUT(int, bool);
    case API_INT2:
        if (VARS[vr].type == T_ENUMERATION) { COPY_OUT(int32_t, int64_t); }
        COPY_OUT(int32_t, int32_t);
    case API_STRING: ((const char **)values)[k] = src; break;
    case API_BINARY:
        ((const unsigned char **)values)[k] = src;
        sizes[k] = *(const size_t *)((const char *)v + VARS[vr].size_offset);
        break;
    }
}

Status core_get(Instance *inst, const char *fn, const unsigned vr[], size_t nvr, ApiType api,
                void *values, size_t n_values, size_t sizes[]) {
    if (!core_allowed(inst, fn, MODE_ANY & ~(MODE_INSTANTIATED | MODE_CONFIG | MODE_RECONFIG)))
        return ST_ERROR;
    if (nvr > 0 && (!vr || !values || (api == API_BINARY && !sizes)))
        return core_error(inst, "%s: NULL argument", fn);
    if (check_total(inst, fn, total_count(inst, fn, vr, nvr, api, false), n_values, nvr))
        return ST_ERROR;
    core_update(inst);
    for (size_t i = 0, k = 0; i < nvr; i++) {
        const size_t n = core_count(inst, vr[i]);
        copy_out(&inst->m.v, vr[i], api, values, k, n, sizes);
        k += n;
    }
    return ST_OK;
}

/* ---------------------------------------------------------------- set */

static bool valid_item(Instance *inst, const char *fn, unsigned vr, int64_t x) {
    const VarInfo *var = &VARS[vr];
    for (size_t i = 0; i < var->n_items; i++)
        if (var->items[i] == x) return true;
    core_error(inst, "%s: %lld is not an item of the enumeration '%s' (vr %u)", fn, (long long)x,
               var->name, vr);
    return false;
}

static bool valid_structural(Instance *inst, const char *fn, unsigned vr, uint64_t x) {
    const VarInfo *var = &VARS[vr];
    if ((double)x >= var->min && (double)x <= var->max) return true;
    core_error(inst, "%s: structural parameter '%s' (vr %u) = %llu is outside [%g, %g]", fn,
               var->name, vr, (unsigned long long)x, var->min, var->max);
    return false;
}

static bool set_string(Instance *inst, const char *fn, unsigned vr, const char *s) {
    const VarInfo *var = &VARS[vr];
    if (!s) {
        core_error(inst, "%s: NULL string for '%s' (vr %u)", fn, var->name, vr);
        return false;
    }
    const size_t len = strlen(s);
    if (len >= var->capacity) {
        core_error(inst, "%s: string of %zu bytes for '%s' (vr %u) is too long (at most %zu)", fn,
                   len, var->name, vr, var->capacity - 1);
        return false;
    }
    memcpy(var_ptr(&inst->m.v, vr), s, len + 1);
    return true;
}

static bool set_binary(Instance *inst, const char *fn, unsigned vr, const unsigned char *data,
                       size_t size) {
    const VarInfo *var = &VARS[vr];
    if (size > var->capacity || (size > 0 && !data)) {
        core_error(inst, "%s: binary of %zu bytes for '%s' (vr %u): %s (at most %zu)", fn, size,
                   var->name, vr, data ? "too long" : "NULL data", var->capacity);
        return false;
    }
    if (size > 0) memcpy(var_ptr(&inst->m.v, vr), data, size);
    *(size_t *)((char *)&inst->m.v + var->size_offset) = size;
    return true;
}

#define COPY_IN(CT, ST) \
    for (size_t j = 0; j < n; j++) ((ST *)dst)[j] = (ST)((const CT *)values)[k + j]; \
    return true

static bool copy_in(Instance *inst, const char *fn, unsigned vr, ApiType api,
                    const void *values, size_t k, size_t n, const size_t sizes[]) {
    void *dst = var_ptr(&inst->m.v, vr);
    const VarType type = VARS[vr].type;
    if (type == T_ENUMERATION)
        for (size_t j = 0; j < n; j++) {
            const int64_t x = api == API_INT2 ? ((const int32_t *)values)[k + j]
                                              : ((const int64_t *)values)[k + j];
            if (!valid_item(inst, fn, vr, x)) return false;
        }
    if (VARS[vr].causality == C_STRUCTURAL && type == T_UINT64)
        for (size_t j = 0; j < n; j++)
            if (!valid_structural(inst, fn, vr, ((const uint64_t *)values)[k + j])) return false;
    switch (api) {
    case API_FLOAT32: COPY_IN(float, float);
    case API_FLOAT64: COPY_IN(double, double);
    case API_INT8: COPY_IN(int8_t, int8_t);
    case API_UINT8: COPY_IN(uint8_t, uint8_t);
    case API_INT16: COPY_IN(int16_t, int16_t);
    case API_UINT16: COPY_IN(uint16_t, uint16_t);
    case API_INT32: COPY_IN(int32_t, int32_t);
    case API_UINT32: COPY_IN(uint32_t, uint32_t);
    case API_INT64: COPY_IN(int64_t, int64_t);
    case API_UINT64: COPY_IN(uint64_t, uint64_t);
    case API_BOOL3: case API_CLOCK: COPY_IN(bool, bool);
    case API_BOOL2:
        for (size_t j = 0; j < n; j++) ((bool *)dst)[j] = ((const int *)values)[k + j] != 0;
        return true;
    case API_INT2:
        if (type == T_ENUMERATION) { COPY_IN(int32_t, int64_t); }
        COPY_IN(int32_t, int32_t);
    case API_STRING: return set_string(inst, fn, vr, ((const char *const *)values)[k]);
    case API_BINARY:
        return set_binary(inst, fn, vr, ((const unsigned char *const *)values)[k], sizes[k]);
    }
    return false;
}

Status core_set(Instance *inst, const char *fn, const unsigned vr[], size_t nvr, ApiType api,
                const void *values, size_t n_values, const size_t sizes[]) {
    if (!inst) return ST_ERROR;
    if (nvr > 0 && (!vr || !values || (api == API_BINARY && !sizes)))
        return core_error(inst, "%s: NULL argument", fn);
    if (check_total(inst, fn, total_count(inst, fn, vr, nvr, api, true), n_values, nvr))
        return ST_ERROR;
    for (size_t i = 0, k = 0; i < nvr; i++) {
        const size_t n = core_count(inst, vr[i]);
        if (!copy_in(inst, fn, vr[i], api, values, k, n, sizes)) return ST_ERROR;
        k += n;
    }
    inst->m.dirty = true;
    return ST_OK;
}
