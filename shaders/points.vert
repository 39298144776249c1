#version 330 core
// Dense vertices as round discs, sized and coloured by log density.
uniform mat4 u_view_proj;
uniform vec3 u_centre;
uniform vec2 u_log_range;     // log10 density mapped to the bottom and top of the colormap
uniform float u_point_size;   // pixels at the bottom of the range; twice that at the top

in vec3 in_position;
in float in_density;

out float v_t;
out vec3 v_world;

void main() {
    v_t = clamp((log(in_density) / log(10.0) - u_log_range.x) / (u_log_range.y - u_log_range.x), 0.0, 1.0);
    v_world = in_position + u_centre;
    gl_Position = u_view_proj * vec4(in_position, 1.0);
    gl_PointSize = u_point_size * (1.0 + v_t);
}
