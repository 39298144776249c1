#version 330 core
// Isodensity surfaces, with their gradient normals for lighting.
uniform mat4 u_view_proj;   // includes the translation to the data centre

in vec3 in_position;
in vec3 in_normal;

out vec3 v_pos;
out vec3 v_normal;

void main() {
    v_pos = in_position;
    v_normal = in_normal;
    gl_Position = u_view_proj * vec4(in_position, 1.0);
}
