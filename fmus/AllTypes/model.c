/* AllTypes: every variable type as input and as output (see model.json for each rule) */
#include <stdio.h>
#include <string.h>

#include "model.h"

/* y = u + 1 in the type's own arithmetic: unsigned wrap-around; for the signed types the sum
 * is formed unsigned and converted back (modulo 2^N, as gcc defines the conversion) */
#define PLUS_ONE(T, UT, name) V(y_##name) = (T)(UT)((UT)V(u_##name) + 1u)

static void outputs(Model *m) {
    V(y_Float32) = V(u_Float32) + 1.0f;
    V(y_Float64) = V(u_Float64) + 1.0;
    PLUS_ONE(int8_t, uint8_t, Int8);
    PLUS_ONE(uint8_t, uint8_t, UInt8);
    PLUS_ONE(int16_t, uint16_t, Int16);
    PLUS_ONE(uint16_t, uint16_t, UInt16);
    PLUS_ONE(int32_t, uint32_t, Int32);
    PLUS_ONE(uint32_t, uint32_t, UInt32);
    PLUS_ONE(int64_t, uint64_t, Int64);
    PLUS_ONE(uint64_t, uint64_t, UInt64);
    V(y_Boolean) = !V(u_Boolean);
    size_t i;
    for (i = 0; V(u_String)[i]; i++) {
        const char c = V(u_String)[i];
        V(y_String)[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    V(y_String)[i] = '\0';
    VSIZE(y_Binary) = VSIZE(u_Binary);
    for (i = 0; i < VSIZE(u_Binary); i++) V(y_Binary)[i] = (unsigned char)(V(u_Binary)[i] + 1u);
    V(y_Enumeration) = V(u_Enumeration) % 3 + 1; /* red 1 -> green 2 -> blue 3 -> red 1 */
    snprintf(V(y_time), sizeof V(y_time), "t=%.3f", m->time);
}

const ModelFunctions MODEL = {.outputs = outputs};
