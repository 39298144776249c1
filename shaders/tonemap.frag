#version 330 core
// Accumulated density -> colour: exposure, stretch, colour limits, gamma, colormap.
uniform sampler2D u_accum;
uniform sampler2D u_colormap;    // 256 x 1 RGB
uniform float u_gain;            // 2^exposure / fraction of faces drawn
uniform float u_lo;              // colour limits, in accumulated units
uniform float u_hi;
uniform int u_stretch;           // 0 linear, 1 log, 2 asinh
uniform float u_gamma;

out vec4 f_color;

float stretch(float a) {
    if (u_stretch == 0) return (a - u_lo) / (u_hi - u_lo);
    if (u_stretch == 1) return a > 0.0 ? log(a / u_lo) / log(u_hi / u_lo) : 0.0;
    // Lupton et al. (2004): linear near the floor, logarithmic far above it.
    float soft = u_lo;
    return asinh(max(a - u_lo, 0.0) / soft) / asinh((u_hi - u_lo) / soft);
}

void main() {
    float a = texelFetch(u_accum, ivec2(gl_FragCoord.xy), 0).r * u_gain;
    float t = pow(clamp(stretch(a), 0.0, 1.0), 1.0 / u_gamma);
    f_color = vec4(texture(u_colormap, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb, 1.0);
}
