#version 330 core
uniform sampler2DArray u_thumbnails;

in vec2 v_corner;
flat in float v_layer;

out vec4 f_color;

void main() {
    float r = length(v_corner);
    // Output is premultiplied: the thumbnails are (delvol.scene.thumbnails.subtract_sky).
    if (v_layer < 0.0) {
        // Placeholder: a faint grey ring, subtle beside the thumbnails.
        float rim = 1.0 - smoothstep(0.0, 0.06, abs(r - 0.85));
        float alpha = max(0.3 * rim, r < 0.85 ? 0.04 : 0.0);
        if (alpha <= 0.0) discard;
        f_color = vec4(vec3(0.75) * alpha, alpha);
        return;
    }
    // Texture rows run top down, and the square's v axis bottom up.
    vec4 texel = texture(u_thumbnails, vec3(0.5 + 0.5 * v_corner.x, 0.5 - 0.5 * v_corner.y, v_layer));
    // A soft edge keeps light that reaches the border of a cutout from ending in a hard line.
    float edge = 1.0 - smoothstep(0.85, 1.0, max(abs(v_corner.x), abs(v_corner.y)));
    if (texel == vec4(0.0)) discard;
    f_color = texel * edge;
}
