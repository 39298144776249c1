#version 330 core
// Accumulated density -> colour: exposure, stretch, density window, gamma, colormap.
// With a field (--color-by), the density sets the brightness and the density-weighted
// mean field, sum(rho f) / sum(rho) from channels b and r, the hue of a second colormap.
uniform sampler2D u_accum;
uniform sampler2D u_colormap;    // 256 x 1 RGB
uniform float u_gain;            // 2^exposure / fraction of faces drawn
uniform float u_lo;              // density window, in accumulated units
uniform float u_hi;
uniform int u_stretch;           // 0 linear, 1 log, 2 asinh
uniform float u_gamma;
uniform bool u_field_on;
uniform sampler2D u_field_colormap;
uniform float u_field_lo;        // field window (log10 of the field with u_field_log)
uniform float u_field_hi;
uniform bool u_field_log;

out vec4 f_color;

float stretch(float a) {
    if (u_stretch == 0) return (a - u_lo) / (u_hi - u_lo);
    if (u_stretch == 1) return a > 0.0 ? log(a / u_lo) / log(u_hi / u_lo) : 0.0;
    // Lupton et al. (2004): linear near the floor, logarithmic far above it.
    float soft = u_lo;
    return asinh(max(a - u_lo, 0.0) / soft) / asinh((u_hi - u_lo) / soft);
}

vec3 lookup(sampler2D table, float t) {
    return texture(table, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb;
}

void main() {
    vec4 accum = texelFetch(u_accum, ivec2(gl_FragCoord.xy), 0);
    float t = pow(clamp(stretch(accum.r * u_gain), 0.0, 1.0), 1.0 / u_gamma);
    if (!u_field_on) {
        f_color = vec4(lookup(u_colormap, t), 1.0);
        return;
    }
    float mean = accum.r > 0.0 ? accum.b / accum.r : 0.0;
    float m = u_field_log ? (mean > 0.0 ? log(mean) / log(10.0) : u_field_lo) : mean;
    float u = clamp((m - u_field_lo) / (u_field_hi - u_field_lo), 0.0, 1.0);
    f_color = vec4(lookup(u_field_colormap, u) * t, 1.0);
}
