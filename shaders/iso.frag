#version 330 core
// A headlight: Lambert shading by the normal's angle to the ray, two-sided, plus ambient.
uniform vec3 u_color;
uniform vec3 u_eye;         // perspective eye, relative to the data centre
uniform vec3 u_forward;     // orthographic view direction
uniform bool u_ortho;

in vec3 v_pos;
in vec3 v_normal;

out vec4 f_color;

void main() {
    vec3 ray = normalize(u_ortho ? u_forward : v_pos - u_eye);
    float lambert = abs(dot(normalize(v_normal), ray));
    f_color = vec4(u_color * (0.25 + 0.75 * lambert), 1.0);
}
