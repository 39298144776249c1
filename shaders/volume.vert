#version 330 core
// Delaunay faces: one vertex per point, shared through the index buffer.
uniform mat4 u_view_proj;   // includes the translation to the data origin
uniform vec3 u_origin;      // positions are stored relative to this (float32 precision)

in vec3 in_position;
in float in_density;
#ifdef FIELD
in float in_field;          // the --color-by field
out float v_field;
#endif

out float v_density;
out vec3 v_world;

void main() {
    v_density = in_density;
#ifdef FIELD
    v_field = in_field;
#endif
    v_world = in_position + u_origin;
    gl_Position = u_view_proj * vec4(in_position, 1.0);
}
