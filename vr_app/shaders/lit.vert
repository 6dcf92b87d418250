#version 130
// Per-pixel lighting for the memorial room: pass view-space position and normal on.

uniform mat4 p3d_ModelViewProjectionMatrix;
uniform mat4 p3d_ModelViewMatrix;
uniform mat3 p3d_NormalMatrix;

in vec4 p3d_Vertex;
in vec3 p3d_Normal;
in vec2 p3d_MultiTexCoord0;
in vec4 p3d_Color;

out vec3 v_pos;     // view space, metres
out vec3 v_normal;  // view space
out vec2 v_uv;
out vec4 v_color;

void main() {
    vec4 view = p3d_ModelViewMatrix * p3d_Vertex;
    v_pos = view.xyz;
    v_normal = p3d_NormalMatrix * p3d_Normal;
    v_uv = p3d_MultiTexCoord0;
    v_color = p3d_Color;
    gl_Position = p3d_ModelViewProjectionMatrix * p3d_Vertex;
}
