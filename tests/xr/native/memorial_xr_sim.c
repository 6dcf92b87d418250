/* A small simulated OpenXR runtime for the tests: loaded by the real OpenXR loader through
 * XR_RUNTIME_JSON, so the app's pyopenxr code path runs for real without a headset.
 *
 * It implements the subset Memorial VR uses: instance, system, OpenGL (GLX) session, reference
 * and action spaces, stereo views from a scripted head, swapchains backed by real GL textures
 * created in the app's context, the frame loop, actions driven by scripted inputs, and it saves
 * the eye images the app submits as PPM files. Script (MEMORIAL_XR_SIM_SCRIPT), one per line:
 *   out DIR | size W H | ipd M | profile PATH | head FRAME YAW_DEG | quit FRAME | save FRAME
 *   aim HAND FRAME X Y Z QX QY QZ QW | input HAND FRAME COMPONENT VALUE
 *   hands (offer XR_EXT_hand_tracking) | joints HAND FRAME GAP X Y Z QX QY QZ QW (palm pose, pinch gap)
 * MEMORIAL_XR_SIM_NO_HMD=1 plays a runtime whose headset is unplugged.
 * Structures follow the OpenXR 1.0 specification; only what is used is declared.
 */
#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int32_t XrResult;
typedef uint64_t XrVersion, XrFlags64, XrSystemId, XrPath;
typedef int64_t XrTime, XrDuration;
typedef uint32_t XrBool32;
typedef uint64_t XrHandle; /* every XrInstance/XrSession/... handle: opaque 64-bit values */
typedef void (*PFN_xrVoidFunction)(void);

#define XR_MAKE_VERSION(a, b, c) ((((uint64_t)(a)) << 48) | (((uint64_t)(b)) << 32) | (uint64_t)(c))
enum { OK = 0, EVENT_UNAVAILABLE = 4, E_VALIDATION = -1, E_RUNTIME = -2, E_FUNCTION_UNSUPPORTED = -7,
       E_SIZE = -11, E_HANDLE = -12, E_NOT_RUNNING = -16, E_SESSION_RUNNING = -14, E_NOT_READY = -28,
       E_NOT_STOPPING = -29, E_CALL_ORDER = -37, E_PATH_INVALID = -19, E_GRAPHICS_DEVICE = -38,
       E_ACTIONSET_NOT_ATTACHED = -46 };
enum { T_EXTENSION_PROPERTIES = 2, T_SYSTEM_PROPERTIES = 5, T_VIEW = 7, T_VIEW_STATE = 11,
       T_EVENT_STATE = 18, T_INSTANCE_PROPERTIES = 32, T_VIEW_CONFIGURATION_VIEW = 41, T_SPACE_LOCATION = 42,
       T_FRAME_STATE = 44, T_ACTION_STATE_BOOLEAN = 23, T_ACTION_STATE_FLOAT = 24, T_ACTION_STATE_POSE = 27,
       T_COMPOSITION_LAYER_PROJECTION = 35, T_BINDING_GLX = 1000023001, T_SWAPCHAIN_IMAGE_GL = 1000023004,
       T_GL_REQUIREMENTS = 1000023005 };
enum { S_IDLE = 1, S_READY, S_SYNCHRONIZED, S_VISIBLE, S_FOCUSED, S_STOPPING, S_LOSS_PENDING, S_EXITING };

typedef struct { float x, y, z, w; } Quat;
typedef struct { float x, y, z; } Vec3;
typedef struct { Quat orientation; Vec3 position; } Pose;
typedef struct { float left, right, up, down; } Fov;
typedef struct { int32_t type; const void *next; } Header;

typedef struct { int32_t type; void *next; char name[128]; uint32_t version; } ExtensionProperties;
typedef struct { int32_t type; void *next; XrVersion runtimeVersion; char runtimeName[128]; } InstanceProperties;
typedef struct { int32_t type; const void *next; int32_t formFactor; } SystemGetInfo;
typedef struct { int32_t type; void *next; XrSystemId systemId; uint32_t vendorId; char systemName[256];
                 uint32_t maxHeight, maxWidth, maxLayers; XrBool32 orientationTracking, positionTracking; } SystemProperties;
typedef struct { int32_t type; void *next; uint32_t recW, maxW, recH, maxH, recSamples, maxSamples; } ViewConfigurationView;
typedef struct { int32_t type; void *next; XrVersion minApi, maxApi; } GlRequirements;
typedef struct { int32_t type; const void *next; XrFlags64 flags; XrSystemId systemId; } SessionCreateInfo;
typedef struct { int32_t type; const void *next; void *xDisplay; uint32_t visualid; void *fbconfig;
                 unsigned long drawable; void *context; } BindingGLX;
typedef struct { int32_t type; const void *next; int32_t spaceType; Pose pose; } ReferenceSpaceCreateInfo;
typedef struct { int32_t type; const void *next; XrHandle session; int32_t state; XrTime time; } EventState;
typedef struct { int32_t type; const void *next; uint8_t varying[4000]; } EventBuffer;
typedef struct { int32_t type; const void *next; XrFlags64 createFlags, usage; int64_t format;
                 uint32_t samples, width, height, faces, arraySize, mips; } SwapchainCreateInfo;
typedef struct { int32_t type; void *next; uint32_t image; } SwapchainImageGL;
typedef struct { int32_t type; void *next; XrTime predictedDisplayTime; XrDuration period; XrBool32 shouldRender; } FrameState;
typedef struct { int32_t type; const void *next; XrTime displayTime; int32_t blend; uint32_t layerCount;
                 const Header *const *layers; } FrameEndInfo;
typedef struct { int32_t x, y, w, h; } Rect;
typedef struct { int32_t type; const void *next; Pose pose; Fov fov; XrHandle swapchain; Rect rect; uint32_t arrayIndex; } ProjectionView;
typedef struct { int32_t type; const void *next; XrFlags64 flags; XrHandle space; uint32_t viewCount; const ProjectionView *views; } ProjectionLayer;
typedef struct { int32_t type; const void *next; int32_t viewConfigType; XrTime time; XrHandle space; } ViewLocateInfo;
typedef struct { int32_t type; void *next; XrFlags64 flags; } ViewState;
typedef struct { int32_t type; void *next; Pose pose; Fov fov; } View;
typedef struct { int32_t type; void *next; XrFlags64 flags; Pose pose; } SpaceLocation;
typedef struct { int32_t type; const void *next; char name[64]; char localized[128]; uint32_t priority; } ActionSetCreateInfo;
typedef struct { int32_t type; const void *next; char name[64]; int32_t actionType; uint32_t countSubaction;
                 const XrPath *subactionPaths; char localized[128]; } ActionCreateInfo;
typedef struct { XrHandle action; XrPath binding; } SuggestedBinding;
typedef struct { int32_t type; const void *next; XrPath profile; uint32_t count; const SuggestedBinding *bindings; } ProfileBindings;
typedef struct { int32_t type; const void *next; XrHandle action; XrPath subaction; Pose pose; } ActionSpaceCreateInfo;
typedef struct { int32_t type; const void *next; XrHandle action; XrPath subaction; } ActionStateGetInfo;
typedef struct { int32_t type; void *next; XrBool32 current, changed; XrTime lastChange; XrBool32 active; } StateBool;
typedef struct { int32_t type; void *next; float current; XrBool32 changed; XrTime lastChange; XrBool32 active; } StateFloat;
typedef struct { int32_t type; void *next; XrBool32 active; } StatePose;

typedef struct { uint32_t loaderType, version; size_t size; uint32_t minInterface, maxInterface; XrVersion minApi, maxApi; } NegotiateLoaderInfo;
typedef struct { uint32_t loaderType, version; size_t size; uint32_t runtimeInterface; XrVersion runtimeApi;
                 XrResult (*getInstanceProcAddr)(XrHandle, const char *, PFN_xrVoidFunction *); } NegotiateRuntimeRequest;

/* ---- runtime state (one instance, one session at a time) ---- */
#define MAX_SCRIPT 256
#define MAX_PATHS 256
#define MAX_ACTIONS 32
#define MAX_BINDINGS 256
typedef struct { char kind[16]; char hand[8]; int frame; char component[64]; float v[8]; } Cmd;
static Cmd script[MAX_SCRIPT];
static int n_script;
static char out_dir[512] = ""; /* no images or log unless the script names a folder */
static char profile[128] = "/interaction_profiles/oculus/touch_controller";
static uint32_t eye_w = 128, eye_h = 128;
static float ipd = 0.064f;
static int offer_hands; /* XR_EXT_hand_tracking, when the script says `hands` */
static FILE *log_file;

static char paths[MAX_PATHS][128];
static int n_paths;
static struct { char name[64]; int type; } actions[MAX_ACTIONS];
static int n_actions;
static struct { XrPath profile; XrHandle action; XrPath binding; } bindings[MAX_BINDINGS];
static int n_bindings, attached;

static int state, pending[16], n_pending, begun, in_frame, waited, exit_requested, ramp;
static long frame;
static XrHandle next_handle = 1000;
static XrHandle session_handle;
static struct { XrHandle handle; int kind; XrHandle action; XrPath sub; } spaces[64]; /* kind: 1 view 2 local 3 stage 4 action */
static int n_spaces;
static struct { XrHandle handle; GLuint tex[3]; uint32_t w, h, layers; int acquired, index; } chains[4];
static int n_chains;

static const Fov FOV_LEFT = {-0.942f, 0.698f, 0.768f, -0.873f};
static const Fov FOV_RIGHT = {-0.698f, 0.942f, 0.768f, -0.873f};

static void say(const char *fmt, const char *a, long b) {
    if (!log_file) return;
    fprintf(log_file, fmt, a, b);
    fputc('\n', log_file);
    fflush(log_file);
}

static void load_script(void) {
    const char *path = getenv("MEMORIAL_XR_SIM_SCRIPT");
    n_script = 0;
    offer_hands = 0;
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[512];
    while (f && fgets(line, sizeof line, f) && n_script < MAX_SCRIPT) {
        Cmd c;
        memset(&c, 0, sizeof c);
        if (sscanf(line, "out %511s", out_dir) == 1) continue;
        if (sscanf(line, "size %u %u", &eye_w, &eye_h) == 2) continue;
        if (sscanf(line, "ipd %f", &ipd) == 1) continue;
        if (sscanf(line, "profile %127s", profile) == 1) continue;
        if (!strncmp(line, "hands", 5)) { offer_hands = 1; continue; }
        if (sscanf(line, "head %d %f", &c.frame, &c.v[0]) == 2) strcpy(c.kind, "head");
        else if (sscanf(line, "quit %d", &c.frame) == 1) strcpy(c.kind, "quit");
        else if (sscanf(line, "save %d", &c.frame) == 1) strcpy(c.kind, "save");
        else if (sscanf(line, "aim %7s %d %f %f %f %f %f %f %f", c.hand, &c.frame, &c.v[0], &c.v[1], &c.v[2],
                        &c.v[3], &c.v[4], &c.v[5], &c.v[6]) == 9) strcpy(c.kind, "aim");
        else if (sscanf(line, "input %7s %d %63s %f", c.hand, &c.frame, c.component, &c.v[0]) == 4) strcpy(c.kind, "input");
        else if (sscanf(line, "joints %7s %d %f %f %f %f %f %f %f %f", c.hand, &c.frame, &c.v[7], &c.v[0], &c.v[1],
                        &c.v[2], &c.v[3], &c.v[4], &c.v[5], &c.v[6]) == 10) strcpy(c.kind, "joints");
        else continue;
        script[n_script++] = c;
    }
    if (f) fclose(f);
    char logpath[600];
    snprintf(logpath, sizeof logpath, "%s/runtime.log", out_dir);
    if (!log_file && out_dir[0]) log_file = fopen(logpath, "a");
}

static const Cmd *latest(const char *kind, const char *hand, const char *component) {
    const Cmd *best = NULL;
    for (int i = 0; i < n_script; i++) {
        const Cmd *c = &script[i];
        if (strcmp(c->kind, kind) || c->frame > frame) continue;
        if (hand && strcmp(c->hand, hand)) continue;
        if (component && strcmp(c->component, component)) continue;
        if (!best || c->frame >= best->frame) best = c;
    }
    return best;
}

static int scripted_at(const char *kind) {
    for (int i = 0; i < n_script; i++)
        if (!strcmp(script[i].kind, kind) && script[i].frame == frame) return 1;
    return 0;
}

static void queue(int s) { if (n_pending < 16) pending[n_pending++] = s; }

static void queue_down_chain(void) {
    int last = n_pending ? pending[n_pending - 1] : state;
    if (last == S_FOCUSED) queue(S_VISIBLE);
    if (last == S_FOCUSED || last == S_VISIBLE) queue(S_SYNCHRONIZED);
    if (last >= S_SYNCHRONIZED && last <= S_FOCUSED) queue(S_STOPPING);
}

static Pose head_pose(void) {
    const Cmd *h = latest("head", NULL, NULL);
    float yaw = h ? h->v[0] * (float)M_PI / 180.0f : 0.0f;
    Pose p = {{0, sinf(yaw / 2), 0, cosf(yaw / 2)}, {0, 0, 0}};
    return p;
}

static XrTime display_time(void) { return 1000000000LL + frame * 11111111LL; }

/* ---- instance and system ---- */
static XrResult enumerate_extensions(const char *layer, uint32_t cap, uint32_t *count, ExtensionProperties *props) {
    (void)layer;
    load_script();
    *count = offer_hands ? 2 : 1;
    if (cap == 0) return OK;
    if (cap < *count) return E_SIZE;
    props[0].type = T_EXTENSION_PROPERTIES;
    strcpy(props[0].name, "XR_KHR_opengl_enable");
    props[0].version = 10;
    if (offer_hands) {
        props[1].type = T_EXTENSION_PROPERTIES;
        strcpy(props[1].name, "XR_EXT_hand_tracking");
        props[1].version = 4;
    }
    return OK;
}

static XrResult create_instance(const void *info, XrHandle *instance) {
    (void)info;
    load_script();
    *instance = next_handle++;
    n_paths = n_actions = n_bindings = attached = 0;
    say("create_instance%s %ld", "", 0);
    return OK;
}

static XrResult destroy_instance(XrHandle instance) { (void)instance; say("destroy_instance%s %ld", "", 0); return OK; }

static XrResult get_instance_properties(XrHandle instance, InstanceProperties *p) {
    (void)instance;
    p->runtimeVersion = XR_MAKE_VERSION(0, 1, 0);
    strcpy(p->runtimeName, "Memorial simulated runtime (native)");
    return OK;
}

static XrResult get_system(XrHandle instance, const SystemGetInfo *info, XrSystemId *id) {
    (void)instance;
    if (info->formFactor != 1 || getenv("MEMORIAL_XR_SIM_NO_HMD")) return -35; /* FORM_FACTOR_UNAVAILABLE */
    *id = 1;
    return OK;
}

static XrResult get_system_properties(XrHandle instance, XrSystemId id, SystemProperties *p) {
    (void)instance;
    p->systemId = id;
    p->vendorId = 0x4d56;
    strcpy(p->systemName, "Simulated headset");
    p->maxWidth = p->maxHeight = 4096;
    p->maxLayers = 4;
    p->orientationTracking = p->positionTracking = 1;
    return OK;
}

static XrResult enumerate_view_config_views(XrHandle instance, XrSystemId id, int32_t type, uint32_t cap,
                                            uint32_t *count, ViewConfigurationView *views) {
    (void)instance; (void)id;
    if (type != 2) return -41; /* primary stereo only */
    *count = 2;
    if (cap == 0) return OK;
    if (cap < 2) return E_SIZE;
    for (int i = 0; i < 2; i++) {
        views[i].recW = eye_w; views[i].recH = eye_h;
        views[i].maxW = views[i].maxH = 4096;
        views[i].recSamples = 1; views[i].maxSamples = 4;
    }
    return OK;
}

static XrResult gl_requirements(XrHandle instance, XrSystemId id, GlRequirements *r) {
    (void)instance; (void)id;
    r->minApi = XR_MAKE_VERSION(3, 3, 0);
    r->maxApi = XR_MAKE_VERSION(4, 6, 0);
    return OK;
}

static XrResult string_to_path(XrHandle instance, const char *s, XrPath *path) {
    (void)instance;
    if (!s || s[0] != '/') return E_PATH_INVALID;
    for (int i = 0; i < n_paths; i++)
        if (!strcmp(paths[i], s)) { *path = (XrPath)(i + 1); return OK; }
    if (n_paths >= MAX_PATHS) return E_RUNTIME;
    strncpy(paths[n_paths], s, 127);
    *path = (XrPath)(++n_paths);
    return OK;
}

static const char *path_str(XrPath p) { return (p >= 1 && p <= (XrPath)n_paths) ? paths[p - 1] : ""; }

static XrResult path_to_string(XrHandle instance, XrPath p, uint32_t cap, uint32_t *count, char *buf) {
    (void)instance;
    const char *s = path_str(p);
    *count = (uint32_t)strlen(s) + 1;
    if (cap == 0) return OK;
    if (cap < *count) return E_SIZE;
    memcpy(buf, s, *count);
    return OK;
}

static XrResult result_to_string(XrHandle instance, XrResult r, char buf[64]) {
    (void)instance;
    snprintf(buf, 64, "XR_RESULT_%d", r);
    return OK;
}

/* ---- session ---- */
static XrResult create_session(XrHandle instance, const SessionCreateInfo *info, XrHandle *session) {
    (void)instance;
    const BindingGLX *b = (const BindingGLX *)info->next;
    if (!b || b->type != T_BINDING_GLX || !b->context) { say("create_session: no GLX binding%s %ld", "", 0); return E_GRAPHICS_DEVICE; }
    session_handle = *session = next_handle++;
    state = 0; n_pending = 0; begun = in_frame = waited = exit_requested = 0; frame = 0; n_spaces = n_chains = 0;
    queue(S_IDLE); queue(S_READY);
    say("create_session%s %ld", "", 0);
    return OK;
}

static XrResult destroy_session(XrHandle s) {
    (void)s;
    for (int i = 0; i < n_chains; i++) glDeleteTextures(3, chains[i].tex);
    n_chains = 0;
    say("destroy_session%s %ld", "", 0);
    return OK;
}

static XrResult poll_event(XrHandle instance, EventBuffer *buf) {
    (void)instance;
    if (!n_pending) return EVENT_UNAVAILABLE;
    EventState *e = (EventState *)buf;
    e->type = T_EVENT_STATE;
    e->next = NULL;
    e->session = session_handle;
    e->state = pending[0];
    e->time = display_time();
    state = pending[0];
    memmove(pending, pending + 1, sizeof(int) * (size_t)(--n_pending));
    say("state %s%ld", "", state);
    return OK;
}

static XrResult begin_session(XrHandle s, const void *info) {
    (void)s; (void)info;
    if (state != S_READY) return E_NOT_READY;
    if (begun) return E_SESSION_RUNNING;
    begun = 1; ramp = 0;
    say("begin_session%s %ld", "", 0);
    return OK;
}

static XrResult end_session(XrHandle s) {
    (void)s;
    if (state != S_STOPPING) return E_NOT_STOPPING;
    begun = 0;
    queue(S_IDLE);
    queue(exit_requested ? S_EXITING : S_READY);
    say("end_session%s %ld", "", 0);
    return OK;
}

static XrResult request_exit(XrHandle s) {
    (void)s;
    if (!begun) return E_NOT_RUNNING;
    exit_requested = 1;
    queue_down_chain();
    say("request_exit%s %ld", "", 0);
    return OK;
}

static XrResult create_reference_space(XrHandle s, const ReferenceSpaceCreateInfo *info, XrHandle *space) {
    (void)s;
    if (info->spaceType < 1 || info->spaceType > 3) return -45;
    spaces[n_spaces].handle = *space = next_handle++;
    spaces[n_spaces++].kind = info->spaceType;
    return OK;
}

static XrResult destroy_space(XrHandle space) { (void)space; return OK; }

/* ---- swapchains: real GL textures in the app's current context ---- */
static XrResult enumerate_swapchain_formats(XrHandle s, uint32_t cap, uint32_t *count, int64_t *formats) {
    (void)s;
    *count = 2;
    if (cap == 0) return OK;
    if (cap < 2) return E_SIZE;
    formats[0] = 0x8C43; formats[1] = 0x8058; /* GL_SRGB8_ALPHA8, GL_RGBA8 */
    return OK;
}

static XrResult create_swapchain(XrHandle s, const SwapchainCreateInfo *info, XrHandle *chain) {
    (void)s;
    if (n_chains >= 4) return E_RUNTIME;
    if (info->format != 0x8C43 && info->format != 0x8058) return -26;
    if (info->arraySize < 1 || info->arraySize > 2) return E_VALIDATION;
    typeof(chains[0]) *c = &chains[n_chains++];
    memset(c, 0, sizeof *c);
    c->handle = *chain = next_handle++;
    c->w = info->width; c->h = info->height; c->layers = info->arraySize;
    GLenum target = c->layers > 1 ? GL_TEXTURE_2D_ARRAY : GL_TEXTURE_2D;
    glGenTextures(3, c->tex);
    for (int i = 0; i < 3; i++) {
        glBindTexture(target, c->tex[i]);
        glTexParameteri(target, GL_TEXTURE_MIN_FILTER, GL_LINEAR); /* complete with one level */
        glTexParameteri(target, GL_TEXTURE_MAX_LEVEL, 0);
        if (c->layers > 1)
            glTexImage3D(target, 0, (GLint)info->format, (GLsizei)c->w, (GLsizei)c->h, (GLsizei)c->layers, 0, GL_RGBA,
                         GL_UNSIGNED_BYTE, NULL);
        else
            glTexImage2D(target, 0, (GLint)info->format, (GLsizei)c->w, (GLsizei)c->h, 0, GL_RGBA, GL_UNSIGNED_BYTE, NULL);
    }
    glBindTexture(target, 0);
    say("create_swapchain %s%ld", "", (long)c->tex[0]);
    return glGetError() == GL_NO_ERROR ? OK : E_RUNTIME;
}

static typeof(chains[0]) *find_chain(XrHandle h) {
    for (int i = 0; i < n_chains; i++) if (chains[i].handle == h) return &chains[i];
    return NULL;
}

static XrResult destroy_swapchain(XrHandle h) { (void)h; return OK; }

static XrResult enumerate_swapchain_images(XrHandle h, uint32_t cap, uint32_t *count, SwapchainImageGL *images) {
    typeof(chains[0]) *c = find_chain(h);
    if (!c) return E_HANDLE;
    *count = 3;
    if (cap == 0) return OK;
    if (cap < 3) return E_SIZE;
    for (int i = 0; i < 3; i++) images[i].image = c->tex[i];
    return OK;
}

static XrResult acquire_image(XrHandle h, const void *info, uint32_t *index) {
    (void)info;
    typeof(chains[0]) *c = find_chain(h);
    if (!c) return E_HANDLE;
    if (c->acquired) return E_CALL_ORDER;
    c->acquired = 1;
    c->index = (c->index + 1) % 3;
    *index = (uint32_t)c->index;
    return OK;
}

static XrResult wait_image(XrHandle h, const void *info) { (void)info; return find_chain(h) ? OK : E_HANDLE; }

static XrResult release_image(XrHandle h, const void *info) {
    (void)info;
    typeof(chains[0]) *c = find_chain(h);
    if (!c || !c->acquired) return E_CALL_ORDER;
    c->acquired = 2; /* released: its content is what the compositor will show */
    return OK;
}

/* ---- frame loop ---- */
static XrResult wait_frame(XrHandle s, const void *info, FrameState *fs) {
    (void)s; (void)info;
    if (!begun) return E_NOT_RUNNING;
    frame++;
    if (ramp < 3) queue(S_SYNCHRONIZED + ramp++);
    if (scripted_at("quit")) { exit_requested = 1; queue_down_chain(); }
    fs->predictedDisplayTime = display_time();
    fs->period = 11111111;
    fs->shouldRender = (state == S_VISIBLE || state == S_FOCUSED);
    waited = 1;
    return OK;
}

static XrResult begin_frame(XrHandle s, const void *info) {
    (void)s; (void)info;
    if (!waited || in_frame) return E_CALL_ORDER;
    waited = 0; in_frame = 1;
    return OK;
}

static void save_ppm(const char *name, GLuint tex, uint32_t w, uint32_t h, uint32_t layers, uint32_t layer) {
    if (!out_dir[0]) return;
    GLenum target = layers > 1 ? GL_TEXTURE_2D_ARRAY : GL_TEXTURE_2D;
    unsigned char *all = malloc((size_t)w * h * 4 * layers);
    glBindTexture(target, tex);
    glGetTexImage(target, 0, GL_RGBA, GL_UNSIGNED_BYTE, all);
    glBindTexture(target, 0);
    unsigned char *rgba = all + (size_t)w * h * 4 * layer;
    char path[700];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fprintf(f, "P6\n%u %u\n255\n", w, h);
        for (uint32_t y = 0; y < h; y++)          /* GL rows are bottom-up: write top row first */
            for (uint32_t x = 0; x < w; x++) fwrite(rgba + ((size_t)(h - 1 - y) * w + x) * 4, 1, 3, f);
        fclose(f);
    }
    free(all);
}

static XrResult end_frame(XrHandle s, const FrameEndInfo *info) {
    (void)s;
    if (!in_frame) return E_CALL_ORDER;
    in_frame = 0;
    for (uint32_t i = 0; i < info->layerCount; i++) {
        const ProjectionLayer *layer = (const ProjectionLayer *)info->layers[i];
        if (layer->type != T_COMPOSITION_LAYER_PROJECTION || layer->viewCount != 2) return E_VALIDATION;
        const ProjectionView *v = layer->views;
        if (v[0].swapchain == v[1].swapchain && v[0].arrayIndex == v[1].arrayIndex) return E_VALIDATION; /* one image for both eyes */
        for (uint32_t eye = 0; eye < 2; eye++) {
            typeof(chains[0]) *c = find_chain(v[eye].swapchain);
            if (!c || c->acquired != 2) return E_CALL_ORDER;
            if (v[eye].arrayIndex >= c->layers) return E_VALIDATION;
            char name[64];
            snprintf(name, sizeof name, "eye%u.ppm", eye);
            save_ppm(name, c->tex[c->index], c->w, c->h, c->layers, v[eye].arrayIndex);
            if (scripted_at("save")) {
                snprintf(name, sizeof name, "frame%ld_eye%u.ppm", frame, eye);
                save_ppm(name, c->tex[c->index], c->w, c->h, c->layers, v[eye].arrayIndex);
            }
        }
        say("layout %s%ld", v[0].swapchain == v[1].swapchain ? "array " : "per_eye ", (long)n_chains);
        say("submitted frame %s%ld", "", frame);
    }
    for (int i = 0; i < n_chains; i++) if (chains[i].acquired == 2) chains[i].acquired = 0;
    return OK;
}

static XrResult locate_views(XrHandle s, const ViewLocateInfo *info, ViewState *vs, uint32_t cap, uint32_t *count, View *views) {
    (void)s; (void)info;
    *count = 2;
    if (cap == 0) return OK;
    if (cap < 2) return E_SIZE;
    Pose head = head_pose();
    float yaw = 2.0f * atan2f(head.orientation.y, head.orientation.w);
    vs->flags = 0xF; /* orientation + position valid and tracked */
    for (int eye = 0; eye < 2; eye++) {
        float off = (eye ? 0.5f : -0.5f) * ipd;
        views[eye].pose = head;
        views[eye].pose.position.x = off * cosf(yaw);
        views[eye].pose.position.z = -off * sinf(yaw);
        views[eye].fov = eye ? FOV_RIGHT : FOV_LEFT;
    }
    return OK;
}

static XrResult locate_space(XrHandle space, XrHandle base, XrTime time, SpaceLocation *loc) {
    (void)base; (void)time;
    loc->flags = 0;
    for (int i = 0; i < n_spaces; i++) {
        if (spaces[i].handle != space) continue;
        if (spaces[i].kind == 1) { loc->pose = head_pose(); loc->flags = 0xF; return OK; }
        if (spaces[i].kind == 4) {
            const char *hand = strstr(path_str(spaces[i].sub), "left") ? "left" : "right";
            const Cmd *a = latest("aim", hand, NULL);
            if (!a || state != S_FOCUSED) return OK;
            Pose p = {{a->v[3], a->v[4], a->v[5], a->v[6]}, {a->v[0], a->v[1], a->v[2]}};
            loc->pose = p;
            loc->flags = 0xF;
            return OK;
        }
        Pose identity = {{0, 0, 0, 1}, {0, 0, 0}};
        loc->pose = identity;
        loc->flags = 0xF;
        return OK;
    }
    return E_HANDLE;
}

/* ---- actions ---- */
static XrResult create_action_set(XrHandle instance, const ActionSetCreateInfo *info, XrHandle *set) {
    (void)instance; (void)info;
    *set = next_handle++;
    return OK;
}

static XrResult destroy_handle(XrHandle h) { (void)h; return OK; }

static XrResult create_action(XrHandle set, const ActionCreateInfo *info, XrHandle *action) {
    (void)set;
    if (n_actions >= MAX_ACTIONS) return E_RUNTIME;
    strncpy(actions[n_actions].name, info->name, 63);
    actions[n_actions].type = info->actionType;
    *action = (XrHandle)(1 + n_actions++);
    return OK;
}

static XrResult suggest_bindings(XrHandle instance, const ProfileBindings *b) {
    (void)instance;
    if (attached) return -47; /* XR_ERROR_ACTIONSETS_ALREADY_ATTACHED */
    for (uint32_t i = 0; i < b->count && n_bindings < MAX_BINDINGS; i++) {
        const char *p = path_str(b->bindings[i].binding);
        if (strncmp(p, "/user/hand/", 11)) return -22;
        bindings[n_bindings].profile = b->profile;
        bindings[n_bindings].action = b->bindings[i].action;
        bindings[n_bindings++].binding = b->bindings[i].binding;
    }
    say("suggested bindings for %s %ld", path_str(b->profile), (long)b->count);
    return OK;
}

static XrResult attach_action_sets(XrHandle s, const void *info) { (void)s; (void)info; attached = 1; return OK; }

static XrResult create_action_space(XrHandle s, const ActionSpaceCreateInfo *info, XrHandle *space) {
    (void)s;
    spaces[n_spaces].handle = *space = next_handle++;
    spaces[n_spaces].kind = 4;
    spaces[n_spaces].action = info->action;
    spaces[n_spaces++].sub = info->subaction;
    return OK;
}

static XrResult sync_actions(XrHandle s, const void *info) {
    (void)s; (void)info;
    return attached ? OK : E_ACTIONSET_NOT_ATTACHED;
}

static float action_value(XrHandle action, XrPath sub, int *active) {
    float best = 0.0f;
    *active = state == S_FOCUSED;
    const char *hand = strstr(path_str(sub), "left") ? "left" : "right";
    for (int i = 0; i < n_bindings; i++) {
        if (bindings[i].action != action || strcmp(path_str(bindings[i].profile), profile)) continue;
        const char *p = path_str(bindings[i].binding); /* /user/hand/<hand>/input/... */
        if (strncmp(p + 11, hand, strlen(hand))) continue;
        const Cmd *c = latest("input", hand, p + 11 + strlen(hand));
        if (c && c->v[0] > best) best = c->v[0];
    }
    return *active ? best : 0.0f;
}

static XrResult get_state_bool(XrHandle s, const ActionStateGetInfo *info, StateBool *st) {
    (void)s;
    int active;
    st->current = action_value(info->action, info->subaction, &active) > 0.5f;
    st->active = (XrBool32)active;
    st->changed = 0; st->lastChange = 0;
    return OK;
}

static XrResult get_state_float(XrHandle s, const ActionStateGetInfo *info, StateFloat *st) {
    (void)s;
    int active;
    st->current = action_value(info->action, info->subaction, &active);
    st->active = (XrBool32)active;
    st->changed = 0; st->lastChange = 0;
    return OK;
}

static XrResult get_state_pose(XrHandle s, const ActionStateGetInfo *info, StatePose *st) {
    (void)s; (void)info;
    st->active = state == S_FOCUSED;
    return OK;
}

/* ---- XR_EXT_hand_tracking: 26 joints at the scripted palm, index tip GAP metres from the thumb tip ---- */
typedef struct { int32_t type; const void *next; int32_t hand; int32_t jointSet; } HandTrackerCreateInfo;
typedef struct { int32_t type; const void *next; XrHandle baseSpace; XrTime time; } HandJointsLocateInfo;
typedef struct { XrFlags64 flags; Pose pose; float radius; } HandJointLocation;
typedef struct { int32_t type; void *next; XrBool32 isActive; uint32_t jointCount; HandJointLocation *joints; } HandJointLocations;

static XrResult create_hand_tracker(XrHandle s, const HandTrackerCreateInfo *info, XrHandle *tracker) {
    (void)s;
    if (!offer_hands || info->hand < 1 || info->hand > 2) return E_VALIDATION;
    *tracker = 5000 + (XrHandle)info->hand;
    say("create_hand_tracker%s %ld", "", (long)info->hand);
    return OK;
}

static XrResult locate_hand_joints(XrHandle tracker, const HandJointsLocateInfo *info, HandJointLocations *out) {
    (void)info;
    if (out->jointCount != 26 || !out->joints) return E_VALIDATION;
    const Cmd *j = latest("joints", tracker == 5001 ? "left" : "right", NULL);
    out->isActive = j && state == S_FOCUSED;
    if (!out->isActive) return OK;
    Pose palm = {{j->v[3], j->v[4], j->v[5], j->v[6]}, {j->v[0], j->v[1], j->v[2]}};
    for (int i = 0; i < 26; i++) {
        out->joints[i].flags = 0xF;
        out->joints[i].pose = palm;
        out->joints[i].radius = 0.01f;
    }
    out->joints[10].pose.position.x += j->v[7]; /* index tip; the thumb tip (5) stays at the palm */
    return OK;
}

static XrResult get_instance_proc_addr(XrHandle instance, const char *name, PFN_xrVoidFunction *fn);

static const struct { const char *name; PFN_xrVoidFunction fn; } TABLE[] = {
#define F(n, f) {n, (PFN_xrVoidFunction)(f)}
    F("xrGetInstanceProcAddr", get_instance_proc_addr),
    F("xrEnumerateInstanceExtensionProperties", enumerate_extensions),
    F("xrCreateInstance", create_instance), F("xrDestroyInstance", destroy_instance),
    F("xrGetInstanceProperties", get_instance_properties), F("xrGetSystem", get_system),
    F("xrGetSystemProperties", get_system_properties),
    F("xrEnumerateViewConfigurationViews", enumerate_view_config_views),
    F("xrGetOpenGLGraphicsRequirementsKHR", gl_requirements),
    F("xrStringToPath", string_to_path), F("xrPathToString", path_to_string),
    F("xrResultToString", result_to_string),
    F("xrCreateSession", create_session), F("xrDestroySession", destroy_session),
    F("xrPollEvent", poll_event), F("xrBeginSession", begin_session), F("xrEndSession", end_session),
    F("xrRequestExitSession", request_exit),
    F("xrCreateReferenceSpace", create_reference_space), F("xrDestroySpace", destroy_space),
    F("xrEnumerateSwapchainFormats", enumerate_swapchain_formats),
    F("xrCreateSwapchain", create_swapchain), F("xrDestroySwapchain", destroy_swapchain),
    F("xrEnumerateSwapchainImages", enumerate_swapchain_images),
    F("xrAcquireSwapchainImage", acquire_image), F("xrWaitSwapchainImage", wait_image),
    F("xrReleaseSwapchainImage", release_image),
    F("xrWaitFrame", wait_frame), F("xrBeginFrame", begin_frame), F("xrEndFrame", end_frame),
    F("xrLocateViews", locate_views), F("xrLocateSpace", locate_space),
    F("xrCreateActionSet", create_action_set), F("xrDestroyActionSet", destroy_handle),
    F("xrCreateAction", create_action), F("xrDestroyAction", destroy_handle),
    F("xrSuggestInteractionProfileBindings", suggest_bindings),
    F("xrAttachSessionActionSets", attach_action_sets), F("xrCreateActionSpace", create_action_space),
    F("xrSyncActions", sync_actions), F("xrGetActionStateBoolean", get_state_bool),
    F("xrGetActionStateFloat", get_state_float), F("xrGetActionStatePose", get_state_pose),
    F("xrCreateHandTrackerEXT", create_hand_tracker), F("xrDestroyHandTrackerEXT", destroy_handle),
    F("xrLocateHandJointsEXT", locate_hand_joints),
#undef F
};

static XrResult get_instance_proc_addr(XrHandle instance, const char *name, PFN_xrVoidFunction *fn) {
    (void)instance;
    for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
        if (!strcmp(TABLE[i].name, name)) { *fn = TABLE[i].fn; return OK; }
    *fn = NULL;
    return E_FUNCTION_UNSUPPORTED;
}

__attribute__((visibility("default")))
XrResult xrNegotiateLoaderRuntimeInterface(const NegotiateLoaderInfo *info, NegotiateRuntimeRequest *req) {
    if (!info || !req || info->loaderType != 1 || req->loaderType != 3) return E_VALIDATION; /* LOADER_INFO, RUNTIME_REQUEST */
    req->runtimeInterface = 1;
    req->runtimeApi = XR_MAKE_VERSION(1, 0, 0);
    req->getInstanceProcAddr = get_instance_proc_addr;
    return OK;
}
