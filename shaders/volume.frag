#version 330 core
// Additive accumulation of the interpolated DTFE density, optionally weighted per face.
// Compiled in variants (delvol.gl.visuals.volume): on llvmpipe, merely using
// gl_PrimitiveID and the weight fetch makes every fragment 2.5x slower, and the clip
// test costs another 25%, so the plain sum leaves both out.
in float v_density;
in vec3 v_world;
#ifdef FIELD
in float v_field;
#endif

out vec4 f_accum;
uniform float u_scale;  // k when only every k-th face is drawn (far blocks), so sums stay unbiased

#ifdef WEIGHTED
uniform sampler2D u_face_weight;  // one float per face, rows of u_weight_width faces
uniform int u_weight_width;
uniform int u_first_face;         // gl_PrimitiveID restarts at 0 in every draw call
#endif

#ifdef CLIPPED
#include "cut.glsl"
#endif

void main() {
#ifdef CLIPPED
    if (outside_cut(v_world)) discard;
#endif
    float value = v_density;
#ifdef WEIGHTED
    int face = gl_PrimitiveID + u_first_face;
    value *= texelFetch(u_face_weight, ivec2(face % u_weight_width, face / u_weight_width), 0).r;
#endif
    // Sliver faces seen edge-on can interpolate to NaN or inf on some rasterisers, and a
    // single such fragment would poison the whole additive sum.
    if (isnan(value) || isinf(value)) discard;
#ifdef FIELD
    // b sums density times the field, so that b / r is the density-weighted mean of the
    // field along the ray (--color-by), as additive and order-independent as r itself.
    float weighted_field = value * v_field;
    if (isnan(weighted_field) || isinf(weighted_field)) discard;
    f_accum = u_scale * vec4(value, 1.0, weighted_field, 0.0);
#else
    f_accum = u_scale * vec4(value, 1.0, 0.0, 0.0);  // g counts the faces along the ray
#endif
}
