#version 330 core
uniform sampler2D u_image;
uniform vec2 u_size_px;     // the rectangle's size in pixels
uniform float u_border_px;

in vec2 v_uv;

out vec4 f_color;

void main() {
    vec2 px = v_uv * u_size_px;
    if (min(min(px.x, px.y), min(u_size_px.x - px.x, u_size_px.y - px.y)) < u_border_px) {
        f_color = vec4(0.85, 0.85, 0.85, 1.0);
        return;
    }
    vec4 texel = texture(u_image, v_uv);
    // Over a dark backing, so the picture reads the same whatever the volume behind it.
    f_color = vec4(mix(vec3(0.03), texel.rgb, texel.a), 1.0);
}
