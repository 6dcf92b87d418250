#version 130
// Per-pixel lighting for the memorial room, the bust's skin and its eyes.
// Lights come from the scene's own LightAttrib (the same lights the fixed-function software path
// uses); the key light also casts a shadow-map shadow (Panda3D renders the map from `key_shadow`,
// a spotlight at the key light's position aimed at the bust).

const int MAX_LIGHTS = 8;

uniform struct p3d_LightSourceParameters {
    vec4 color;
    vec4 position;  // view space; w = 0 for directional lights (then xyz points towards the light)
    vec3 spotDirection;
    float spotCosCutoff;
    float constantAttenuation;
    float linearAttenuation;
    float quadraticAttenuation;
} p3d_LightSource[MAX_LIGHTS];

uniform struct {
    vec4 ambient;
} p3d_LightModel;

uniform struct {
    vec4 ambient;
    vec4 diffuse;
    vec4 emission;
    vec3 specular;
    float shininess;
} p3d_Material;

uniform mat4 p3d_ViewMatrix;
uniform vec4 p3d_ColorScale;
uniform sampler2D p3d_Texture0;

uniform struct {
    vec4 position;              // view space
    sampler2DShadow shadowMap;
    mat4 shadowViewMatrix;      // view space -> shadow-map texture coordinates
} key_shadow;

// x: strength of the eyes' moist highlight (0 elsewhere), y: its shininess, z: unused,
// w: the key light's shadow: 0 none, else the width of its soft edge (1 for the room)
uniform vec4 surface;

in vec3 v_pos;
in vec3 v_normal;
in vec2 v_uv;
in vec4 v_color;

out vec4 frag_color;

// Soft shadow: 4x4 percentage-closer taps, each a hardware-filtered 2x2 comparison, spread
// `penumbra` times the room's spacing.
float key_light_visibility(float penumbra) {
    vec4 c = key_shadow.shadowViewMatrix * vec4(v_pos, 1.0);
    vec3 p = c.xyz / c.w;
    if (c.w <= 0.0 || any(lessThan(p, vec3(0.0))) || any(greaterThan(p, vec3(1.0)))) {
        return 1.0;  // outside the key light's map: nothing there to cast a shadow
    }
    // Fade the shadow out towards the map's edges, so its frustum never shows as a line.
    vec2 edge = min(p.xy, 1.0 - p.xy);
    float reach = smoothstep(0.0, 0.12, min(edge.x, edge.y));
    vec2 texel = 1.0 / vec2(textureSize(key_shadow.shadowMap, 0));
    float lit = 0.0;
    for (int y = 0; y < 4; ++y) {
        for (int x = 0; x < 4; ++x) {
            vec2 offset = (vec2(x, y) - 1.5) * 1.5 * penumbra * texel;
            lit += texture(key_shadow.shadowMap, vec3(p.xy + offset, p.z - 0.0015));
        }
    }
    return mix(1.0, lit / 16.0, reach);
}

// The lighting is the software renderer's (p3tinydisplay, which draws the videos and the likeness
// benchmark), per pixel: the room's ambient, Lambert diffuse and the material's own specular, summed,
// multiplied by the colour (vertex colour or set_color, times the colour scale) TWICE, alpha included,
// clamped to 1 per channel and multiplied by the texture: p3tinydisplay counts a lit colour twice
// (a 0.5 grey under white light draws 0.25 there). The colours of the mouth's inside, the closing
// eyes' shade and the room were chosen on that picture. Only GL adds the key light's shadow and
// the eyes' highlight (software draws catchlight discs instead).
void main() {
    vec4 colour = v_color * p3d_ColorScale;
    vec4 texel = texture(p3d_Texture0, v_uv);
    // A two-sided surface's inner side keeps the outer side's normal, as both fixed-function
    // renderers light it: turned away, it stays dark (lit as the outer side, the head's inside seen
    // past an eye's inner corner drew bright red specks).
    vec3 n = normalize(v_normal);
    vec3 to_eye = normalize(-v_pos);
    // A material without ambient/diffuse colours gives 1 here: the vertex colour is its colour.
    vec3 light = p3d_LightModel.ambient.rgb * p3d_Material.ambient.rgb;
    vec3 specular = vec3(0.0);
    vec3 highlight = vec3(0.0);
    float key_visible = surface.w > 0.0 ? key_light_visibility(surface.w) : 1.0;
    for (int i = 0; i < MAX_LIGHTS; ++i) {
        if (p3d_LightSource[i].color.a == 0.0) {
            break;  // Panda3D fills the slots past the scene's last light with zeros
        }
        vec4 lp = p3d_LightSource[i].position;
        vec3 color = p3d_LightSource[i].color.rgb;
        vec3 to_light;
        float fade = 1.0;
        if (lp.w == 0.0) {
            to_light = normalize(lp.xyz);
        } else {
            vec3 d = lp.xyz - v_pos;
            float dist = length(d);
            to_light = d / dist;
            fade = 1.0 / (p3d_LightSource[i].constantAttenuation + p3d_LightSource[i].linearAttenuation * dist
                          + p3d_LightSource[i].quadraticAttenuation * dist * dist);
            if (distance(lp.xyz, key_shadow.position.xyz) < 0.01) {
                fade *= key_visible;
            }
        }
        float ndl = dot(n, to_light);
        if (ndl > 0.0) {
            float facing = max(dot(n, normalize(to_light + to_eye)), 0.0);
            light += color * fade * ndl * p3d_Material.diffuse.rgb;
            specular += color * fade * p3d_Material.specular * pow(facing, max(p3d_Material.shininess, 1.0));
            highlight += color * fade * surface.x * pow(facing, surface.y);
        }
    }
    // The vertex colour stands in for a material's missing ambient/diffuse colour (its alpha for the
    // diffuse alpha): the first time the software renderer counts it. The second multiplies the sum,
    // which is clamped to 1 only then, before the texture (measured: a 0.5 grey under a 3x light
    // draws 0.75, and 0.375 on a 0.5 grey texture).
    vec3 lit = min((p3d_Material.emission.rgb + colour.rgb * light + specular) * colour.rgb, vec3(1.0));
    vec3 rgb = lit * texel.rgb + highlight;
    frag_color = vec4(min(rgb, vec3(1.0)), texel.a * colour.a * colour.a * p3d_Material.diffuse.a);
}
