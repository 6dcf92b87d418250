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

// x: specular strength, y: shininess, z: diffuse wrap (0 hard .. 0.5 soft, for skin),
// w: the key light's shadow: 0 none, else the width of its soft edge (1 for the room)
uniform vec4 surface;
// 1 where a vertex colour counts twice, as the software renderer lights it (the mouth's inside, whose
// colours were chosen there: vr_app/mouth.py); 0 elsewhere
uniform float colour_twice;

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

void main() {
    vec4 tint = v_color;
    tint.rgb *= mix(vec3(1.0), v_color.rgb, colour_twice);
    vec4 base = texture(p3d_Texture0, v_uv) * tint * p3d_ColorScale;
    // A two-sided surface's inner side keeps the outer side's normal, as the software renderer (the
    // videos) and fixed-function GL light it: turned away, it stays dark. Lit as the outer side, the
    // head's inside seen past an eye's inner corner or a mouth corner drew bright red specks and lines.
    vec3 n = normalize(v_normal);
    vec3 to_eye = normalize(-v_pos);
    vec3 up = normalize(mat3(p3d_ViewMatrix) * vec3(0.0, 0.0, 1.0));

    // Fill: the room's ambient light, a little brighter from above than from below.
    vec3 diffuse = p3d_LightModel.ambient.rgb * (0.8 + 0.2 * dot(n, up)) * p3d_Material.ambient.rgb;
    vec3 specular = vec3(0.0);
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
        float wrap = surface.z;
        diffuse += color * fade * max((ndl + wrap) / (1.0 + wrap), 0.0) * p3d_Material.diffuse.rgb;
        if (ndl > 0.0) {
            float facing = max(dot(n, normalize(to_light + to_eye)), 0.0);
            specular += color * fade * surface.x * pow(facing, surface.y);
        }
    }
    vec3 rgb = base.rgb * diffuse + p3d_Material.emission.rgb + specular;
    // Past 0.8 the brightest channel is eased towards 1 and the others scaled with it: a lit
    // cheek keeps its hue instead of clipping red first (a photo texture already holds its own
    // light, so the key light on top of it easily goes past 1).
    float peak = max(rgb.r, max(rgb.g, rgb.b));
    if (peak > 0.8) {
        rgb *= (0.8 + 0.2 * (1.0 - exp(-(peak - 0.8) / 0.2))) / peak;
    }
    frag_color = vec4(rgb, base.a);
}
