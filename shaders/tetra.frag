#version 330 core
// One tetrahedron's segment of the ray through this pixel, computed whole in one fragment
// (delvol.render.visuals.tetra). Only back faces are drawn, and a convex tetrahedron's
// back faces cover every ray through it exactly once, also from an eye inside it. The
// fragment's own point p on the back face is the ray's reference, and the tetrahedron's
// barycentric planes are written about its centroid, so every number is on the scale of
// the tetrahedron: no large terms cancel, however far the camera or dense the halo.
//
// INTEGRAL adds the exact line integral of the linear density over the segment,
// length * (rho_in + rho_out) / 2, into r. OPACITY composites the segment's
// emission-absorption back to front (premultiplied "over"): r is the density emitted and
// attenuated in front of it, a the opacity; with zero extinction r is the line integral.
// INTEGRAL with FIELD also adds the exact integral of rho * f into b, f linear in the
// tetrahedron like rho (a product of two linear functions: Simpson's weights are exact),
// so b / r is the density-weighted mean of f along the ray.
in vec3 v_pos;

out vec4 f_accum;

uniform sampler2D u_tets;      // 4 texels per tetrahedron: (a0, rho0) (a1, rho1) (a2, rho2) (c, rho3)
uniform int u_tets_per_row;
uniform int u_first;           // gl_PrimitiveID restarts at 0 in every draw call
uniform vec3 u_eye;            // perspective eye, relative to the data centre
uniform vec3 u_forward;        // orthographic view direction
uniform bool u_ortho;
uniform vec4 u_near;           // the near clip plane: dot(u_near.xyz, x) + u_near.w >= 0
uniform vec3 u_centre;         // the data centre, for the box and the cut plane

#include "cut.glsl"

#ifdef FIELD
uniform sampler2D u_field;     // 1 texel per tetrahedron: f at its 4 vertices
#endif

#ifdef OPACITY
uniform isampler2D u_order;    // the tetrahedron to draw at each position, back to front
uniform int u_order_width;
uniform float u_extinction;    // per unit length at the top of the window (already / fraction)
uniform float u_emission;      // 1 / the fraction of tetrahedra drawn
uniform float u_log_lo;        // log(rho) at the bottom and the top of the opacity window
uniform float u_log_hi;
const int SUBSTEPS = 4;
const float SHADING = 0.8;
#endif

// Shrink [s_in, s_out] to where g0 + s * gd <= 0.
void clip(float g0, float gd, inout float s_in, inout float s_out) {
    if (gd > 0.0) s_out = min(s_out, -g0 / gd);
    else if (gd < 0.0) s_in = max(s_in, -g0 / gd);
    else if (g0 > 0.0) s_out = -1e30;
}

vec4 texel(int tet, int k) {
    return texelFetch(u_tets, ivec2(4 * (tet % u_tets_per_row) + k, tet / u_tets_per_row), 0);
}

void main() {
    int position = gl_PrimitiveID / 4 + u_first;
#ifdef OPACITY
    int tet = texelFetch(u_order, ivec2(position % u_order_width, position / u_order_width), 0).r;
#else
    int tet = position;
#endif
    vec4 t0 = texel(tet, 0), t1 = texel(tet, 1), t2 = texel(tet, 2), t3 = texel(tet, 3);
    mat4x3 a = mat4x3(t0.xyz, t1.xyz, t2.xyz, -(t0.xyz + t1.xyz + t2.xyz));
    vec4 rho = vec4(t0.w, t1.w, t2.w, t3.w);
    vec3 x = v_pos - t3.xyz;
    vec3 d = u_ortho ? u_forward : v_pos - u_eye;
    vec4 lam = x * a + 0.25;       // barycentric coordinates at p
    vec4 rate = d * a;             // and their change per unit of s along x = p + s d
    float s_in = -1e30, s_out = 1e30;
    for (int k = 0; k < 4; ++k) clip(-lam[k], -rate[k], s_in, s_out);
    clip(-(dot(u_near.xyz, v_pos) + u_near.w), -dot(u_near.xyz, d), s_in, s_out);
    vec3 world = v_pos + u_centre;
    for (int k = 0; k < 3; ++k) {
        clip(world[k] - u_clip_hi[k], d[k], s_in, s_out);
        clip(u_clip_lo[k] - world[k], -d[k], s_in, s_out);
    }
    if (u_cut_mode != 0) {
        float g = dot(u_cut.xyz, world) - u_cut.w, gd = dot(u_cut.xyz, d);
        if (u_cut_mode == 1) clip(g, gd, s_in, s_out);
        else {
            clip(g - u_cut_half_width, gd, s_in, s_out);
            clip(-g - u_cut_half_width, -gd, s_in, s_out);
        }
    }
    float ds = s_out - s_in;
    // Slivers seen edge-on can make NaN or inf on some rasterisers; one would poison the sum.
    if (!(ds > 0.0) || isinf(ds) || isnan(ds)) discard;
    float len = ds * length(d);
#ifdef INTEGRAL
    float rho_in = dot(max(lam + s_in * rate, 0.0), rho);
    float rho_out = dot(max(lam + s_out * rate, 0.0), rho);
    float value = 0.5 * len * (rho_in + rho_out);
    if (isnan(value) || isinf(value)) discard;
#ifdef FIELD
    vec4 f = texelFetch(u_field, ivec2(tet % u_tets_per_row, tet / u_tets_per_row), 0);
    float f_in = dot(max(lam + s_in * rate, 0.0), f);
    float f_out = dot(max(lam + s_out * rate, 0.0), f);
    float weighted = len * (2.0 * rho_in * f_in + rho_in * f_out + rho_out * f_in + 2.0 * rho_out * f_out) / 6.0;
    if (isnan(weighted) || isinf(weighted)) discard;
    f_accum = vec4(value, 0.0, weighted, 0.0);
#else
    f_accum = vec4(value, 0.0, 0.0, 0.0);
#endif
#else
    // Midpoint sub-steps from the back: within each, constant density, exact attenuation.
    // Opaque material is lit by a headlight along the density gradient (constant in the
    // tetrahedron): the emission a sub-step's own opacity alpha covers is dimmed by
    // SHADING * alpha * (1 - |cos|), so halos read as solid, and transparent material
    // (alpha -> 0, and all of it at zero opacity) keeps its exact emission.
    vec3 gradient = a * rho;
    float glen = length(gradient);
    float lambert = glen > 0.0 ? abs(dot(gradient / glen, normalize(d))) : 1.0;
    float h = len / float(SUBSTEPS);
    float emitted = 0.0, alpha = 0.0;
    for (int i = SUBSTEPS - 1; i >= 0; --i) {
        float s = s_in + (float(i) + 0.5) / float(SUBSTEPS) * ds;
        float r = dot(max(lam + s * rate, 0.0), rho);
        float level = clamp((log(max(r, 1e-37)) - u_log_lo) / (u_log_hi - u_log_lo), 0.0, 1.0);
        float tau = u_extinction * level * level * h;
        float kept = exp(-tau);
        // The emission of a uniform layer seen through itself: r * h * (1 - e^-tau) / tau.
        float e = r * h * u_emission * (tau > 1e-6 ? (1.0 - kept) / tau : 1.0 - 0.5 * tau);
        e *= 1.0 - SHADING * (1.0 - kept) * (1.0 - lambert);
        emitted = e + kept * emitted;
        alpha = 1.0 - kept * (1.0 - alpha);
    }
    if (isnan(emitted) || isinf(emitted) || isnan(alpha)) discard;
    f_accum = vec4(emitted, 0.0, 0.0, alpha);
#endif
}
