#version 330 core
// Galaxy thumbnails as camera-facing squares of a fixed world size, one instance each.
uniform mat4 u_view_proj;
uniform vec3 u_right;   // the camera's axes in world space: the square lies in the view plane
uniform vec3 u_up;

in vec3 in_centre;
in float in_half_size;
in float in_layer;      // texture-array layer, negative while the thumbnail is not loaded

out vec2 v_corner;      // -1 .. 1 across the square
flat out float v_layer;

void main() {
    v_corner = vec2(float(gl_VertexID & 1), float((gl_VertexID >> 1) & 1)) * 2.0 - 1.0;
    v_layer = in_layer;
    vec3 world = in_centre + in_half_size * (v_corner.x * u_right + v_corner.y * u_up);
    gl_Position = u_view_proj * vec4(world, 1.0);
}
