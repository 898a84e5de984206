#ifndef CSLUICE_THREAD_H
#define CSLUICE_THREAD_H

/// Names the calling thread (pthread_setname_np, which Swift's Glibc module does not import: it is
/// a GNU extension). Linux keeps 15 bytes; the caller cuts longer names. Returns 0 on success.
int csluice_name_current_thread(const char *name);

#endif
