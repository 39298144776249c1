// Clipping shared by the volume and points fragment shaders (included by the loader).
// A periodic box clips to [u_clip_lo, u_clip_hi]: faces that cross it are drawn in every
// image that reaches into the box, and clipping keeps each part once.
// The cut plane: u_cut.xyz is the unit normal and u_cut.w the plane offset; mode 0: off,
// 1: keep the half-space behind the plane (dot(n, x) <= w), 2: keep a slab of half
// thickness u_cut_half_width around it.
uniform vec3 u_clip_lo;
uniform vec3 u_clip_hi;
uniform vec4 u_cut;
uniform int u_cut_mode;
uniform float u_cut_half_width;

bool outside_cut(vec3 world) {
    if (any(lessThan(world, u_clip_lo)) || any(greaterThan(world, u_clip_hi))) return true;
    if (u_cut_mode == 0) return false;
    float d = dot(u_cut.xyz, world) - u_cut.w;
    return u_cut_mode == 1 ? d > 0.0 : abs(d) > u_cut_half_width;
}
