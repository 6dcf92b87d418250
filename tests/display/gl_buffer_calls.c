/* LD_PRELOAD shim for tests: logs glDrawBuffer/glReadBuffer/glReadPixels with the framebuffer
 * bound at the time (0 = the surface's default framebuffer), then calls the real function. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>

typedef unsigned int GLenum;
typedef int GLint;
#define GL_DRAW_FRAMEBUFFER_BINDING 0x8CA6
#define GL_READ_FRAMEBUFFER_BINDING 0x8CAA

static GLint binding(GLenum which) {
    static void (*get)(GLenum, GLint *);
    GLint value = -1;
    if (!get) get = (void (*)(GLenum, GLint *))dlsym(RTLD_NEXT, "glGetIntegerv");
    if (get) get(which, &value);
    return value;
}

void glDrawBuffer(GLenum buf) {
    static void (*real)(GLenum);
    if (!real) real = (void (*)(GLenum))dlsym(RTLD_NEXT, "glDrawBuffer");
    fprintf(stderr, "glcall glDrawBuffer 0x%x framebuffer %d\n", buf, binding(GL_DRAW_FRAMEBUFFER_BINDING));
    real(buf);
}

void glReadBuffer(GLenum buf) {
    static void (*real)(GLenum);
    if (!real) real = (void (*)(GLenum))dlsym(RTLD_NEXT, "glReadBuffer");
    fprintf(stderr, "glcall glReadBuffer 0x%x framebuffer %d\n", buf, binding(GL_READ_FRAMEBUFFER_BINDING));
    real(buf);
}

void glReadPixels(GLint x, GLint y, GLint w, GLint h, GLenum format, GLenum type, void *pixels) {
    static void (*real)(GLint, GLint, GLint, GLint, GLenum, GLenum, void *);
    if (!real) real = (void (*)(GLint, GLint, GLint, GLint, GLenum, GLenum, void *))dlsym(RTLD_NEXT, "glReadPixels");
    fprintf(stderr, "glcall glReadPixels framebuffer %d\n", binding(GL_READ_FRAMEBUFFER_BINDING));
    real(x, y, w, h, format, type, pixels);
}
