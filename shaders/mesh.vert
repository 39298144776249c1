#version 330 core
// Overlays (.obj masks, axes, camera paths) in a flat colour.
uniform mat4 u_view_proj;

in vec3 in_position;

void main() {
    gl_Position = u_view_proj * vec4(in_position, 1.0);
}
