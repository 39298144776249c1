#version 330 core
// Delaunay faces: one vertex per point, shared through the index buffer.
uniform mat4 u_view_proj;   // includes the translation to the data origin
uniform vec3 u_origin;      // positions are stored relative to this (float32 precision)

in vec3 in_position;
in float in_density;
in float in_field;          // the --color-by field (0 without one)

out float v_density;
out float v_field;
out vec3 v_world;

void main() {
    v_density = in_density;
    v_field = in_field;
    v_world = in_position + u_origin;
    gl_Position = u_view_proj * vec4(in_position, 1.0);
}
