#version 330 core
uniform sampler2D u_colormap;
uniform float u_opacity;

in float v_t;
in vec3 v_world;

out vec4 f_color;

#include "cut.glsl"

void main() {
    if (outside_cut(v_world)) discard;
    float r = length(gl_PointCoord - vec2(0.5)) * 2.0;
    if (r > 1.0) discard;
    float edge = 1.0 - smoothstep(0.6, 1.0, r);   // soft rim keeps small discs round
    vec3 rgb = texture(u_colormap, vec2(0.5 + 0.5 * v_t, 0.5)).rgb;
    f_color = vec4(rgb, u_opacity * edge);
}
