#version 330 core
// Tetrahedra for the exact modes: each vertex as it is, the work happens per fragment.
uniform mat4 u_view_proj;   // includes the translation to the data centre

in vec3 in_position;        // relative to the data centre

out vec3 v_pos;

void main() {
    v_pos = in_position;
    gl_Position = u_view_proj * vec4(in_position, 1.0);
}
