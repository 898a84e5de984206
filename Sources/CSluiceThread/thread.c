#define _GNU_SOURCE
#include "CSluiceThread.h"
#include <pthread.h>

int csluice_name_current_thread(const char *name) {
#if defined(__linux__)
    return pthread_setname_np(pthread_self(), name);
#elif defined(__APPLE__)
    return pthread_setname_np(name);
#else
    (void)name;
    return -1;
#endif
}
