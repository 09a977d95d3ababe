/* The file access of netCDF-C, HDF5 and HDF4, served by GDAL's virtual file systems.
 *
 * These libraries read files with the C library (open/read/pread/lseek/fstat, stdio's
 * fopen/fread/fseek) on a path of their own: the file GDAL names, an HDF5 external link or
 * external storage file, an HDF4 external element, netCDF's rc files. build.sh rewrites their
 * archives' references to those functions into the stratus_* functions of this file
 * (objcopy --redefine-syms=vsi_io.syms), so every path they open is opened with VSIFOpenL and
 * every stat is a VSIStatExL: a /vsi path works as a local one, and whatever decides what GDAL
 * may open (gdal-lambda's lockdown) decides for them too. Nothing here opens a path with the
 * C library.
 *
 * - Read-only: an open for writing or creating, and remove/unlink/rename/mkdir/mkstemp, fail with
 *   EACCES; write/pwrite/ftruncate on a descriptor of ours fail with EBADF.
 * - Our descriptors are numbered from VFD_BASE up, far above any the kernel gives out, in a
 *   table under a mutex; a call on any other descriptor (stderr) goes to the C library's own
 *   function, which this file calls by its ordinary name (only the libraries' references are
 *   renamed, so there is no recursion).
 * - fopen gives a FILE of glibc's fopencookie on such a descriptor: fread/fseek/ftell/fclose
 *   stay the C library's; fileno of it is our descriptor (netCDF takes a file's size with
 *   lseek(fileno(f), 0, SEEK_END)).
 * - stat on a path or a descriptor: the file's type and size, read-only permissions, and a
 *   device and inode number made from the path (HDF5 tells files apart by them).
 * - opendir/readdir list with VSIOpenDir; dlopen of a file is refused (a library cannot be
 *   served from a virtual file system).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <dlfcn.h>

#include "cpl_vsi.h"

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "LP64 glibc: one stat layout");
_Static_assert(sizeof(off_t) == 8, "64-bit offsets");

/* The C library's fortified entry points (declared by its headers only under _FORTIFY_SOURCE). */
extern void __chk_fail(void) __attribute__((noreturn));
extern ssize_t __read_chk(int, void *, size_t, size_t);
extern ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);

#define VFD_BASE (1 << 30)
#define VFD_MAX 4096
#define VFD_BLKSIZE 4096
#define VFD_DEV 0x5653 /* "VS" */

struct vfile {
  pthread_mutex_t lock; /* the handle's position and reads */
  VSILFILE *fp;
  uint64_t pos;  /* the descriptor's offset */
  int64_t size;  /* -1 until asked */
  uint64_t ino;
  int fd;
  int refs;      /* the table slot, each FILE on it, each call in progress */
  FILE *stream;  /* the last FILE made on it (fileno) */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfile *table[VFD_MAX];
static int table_used; /* one past the highest slot ever used */

static int ours(int fd) { return fd >= VFD_BASE && fd < VFD_BASE + VFD_MAX; }

static uint64_t path_ino(const char *path) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  return h ? h : 1;
}

/* The entry of one of our descriptors, held (refs) until put(); NULL with EBADF. */
static struct vfile *get(int fd) {
  struct vfile *f = NULL;
  if (ours(fd)) {
    pthread_mutex_lock(&table_lock);
    f = table[fd - VFD_BASE];
    if (f) f->refs++;
    pthread_mutex_unlock(&table_lock);
  }
  if (!f) errno = EBADF;
  return f;
}

static void put(struct vfile *f) {
  pthread_mutex_lock(&table_lock);
  int last = --f->refs == 0;
  pthread_mutex_unlock(&table_lock);
  if (last) {
    VSIFCloseL(f->fp);
    pthread_mutex_destroy(&f->lock);
    free(f);
  }
}

/* Drops the table slot of f (close, or fclose of a FILE on it). */
static void unslot(struct vfile *f) {
  int had = 0;
  pthread_mutex_lock(&table_lock);
  if (table[f->fd - VFD_BASE] == f) {
    table[f->fd - VFD_BASE] = NULL;
    had = 1;
  }
  pthread_mutex_unlock(&table_lock);
  if (had) put(f);
}

/* Write access of any kind: refused. */
static int writes(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND)) ||
         (flags & __O_TMPFILE) == __O_TMPFILE;
}

static int mode_writes(const char *mode) {
  return !mode || strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+') || mode[0] != 'r';
}

/* Opens path through GDAL's file systems: a new descriptor, or -1 with errno. */
static int vopen(const char *path) {
  if (!path) { errno = EFAULT; return -1; }
  if (!*path) { errno = ENOENT; return -1; }
  struct vfile *f = calloc(1, sizeof *f);
  if (!f) { errno = ENOMEM; return -1; }
  f->fp = VSIFOpenL(path, "rb");
  if (!f->fp) {
    free(f);
    errno = ENOENT;
    return -1;
  }
  pthread_mutex_init(&f->lock, NULL);
  f->size = -1;
  f->ino = path_ino(path);
  f->refs = 1;
  pthread_mutex_lock(&table_lock);
  int slot = -1;
  for (int i = 0; i < VFD_MAX; i++)
    if (!table[i]) { slot = i; break; }
  if (slot >= 0) {
    table[slot] = f;
    f->fd = VFD_BASE + slot;
    if (slot >= table_used) table_used = slot + 1;
  }
  pthread_mutex_unlock(&table_lock);
  if (slot < 0) {
    VSIFCloseL(f->fp);
    pthread_mutex_destroy(&f->lock);
    free(f);
    errno = EMFILE;
    return -1;
  }
  return f->fd;
}

static int64_t vsize(struct vfile *f) { /* with f->lock held */
  if (f->size < 0 && VSIFSeekL(f->fp, 0, SEEK_END) == 0) f->size = (int64_t)VSIFTellL(f->fp);
  return f->size;
}

/* A read at the end of the file is 0 bytes, as read(2) says it; a read that fails is EIO. */
static ssize_t vread_at(struct vfile *f, void *buf, size_t n, uint64_t at) { /* f->lock held */
  int64_t size = vsize(f);
  if (n == 0 || (size >= 0 && at >= (uint64_t)size)) return 0;
  if (VSIFSeekL(f->fp, at, SEEK_SET) != 0) { errno = EINVAL; return -1; }
  size_t got = VSIFReadL(buf, 1, n, f->fp);
  if (got == 0 && !VSIFEofL(f->fp)) { errno = EIO; return -1; }
  return (ssize_t)got;
}

static off64_t vseek(struct vfile *f, off64_t off, int whence) { /* f->lock held */
  int64_t base;
  switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->pos; break;
    case SEEK_END:
      if ((base = vsize(f)) < 0) { errno = EIO; return -1; }
      break;
    case SEEK_DATA:
    case SEEK_HOLE: {
      int64_t size = vsize(f);
      if (size < 0) { errno = EIO; return -1; }
      if (off < 0 || off >= size) { errno = ENXIO; return -1; }
      f->pos = (uint64_t)(whence == SEEK_DATA ? off : size);
      return (off64_t)f->pos;
    }
    default: errno = EINVAL; return -1;
  }
  if ((off > 0 && base > INT64_MAX - off) || base + off < 0) { errno = EINVAL; return -1; }
  f->pos = (uint64_t)(base + off);
  return (off64_t)f->pos;
}

static void fill_stat(struct stat64 *st, mode_t type, int64_t size, time_t mtime, uint64_t ino) {
  memset(st, 0, sizeof *st);
  st->st_dev = VFD_DEV;
  st->st_ino = (ino_t)ino;
  st->st_mode = type | (S_ISDIR(type) ? 0555 : 0444);
  st->st_nlink = 1;
  st->st_size = size;
  st->st_blksize = VFD_BLKSIZE;
  st->st_blocks = (size + 511) / 512;
  st->st_mtime = st->st_atime = st->st_ctime = mtime;
}

static int vfstat(int fd, struct stat64 *st) {
  struct vfile *f = get(fd);
  if (!f) return -1;
  pthread_mutex_lock(&f->lock);
  int64_t size = vsize(f);
  pthread_mutex_unlock(&f->lock);
  uint64_t ino = f->ino;
  put(f);
  if (size < 0) { errno = EIO; return -1; }
  fill_stat(st, S_IFREG, size, 0, ino);
  return 0;
}

static int vstat(const char *path, struct stat64 *st) {
  if (!path) { errno = EFAULT; return -1; }
  VSIStatBufL s;
  if (!*path || VSIStatExL(path, &s, VSI_STAT_EXISTS_FLAG | VSI_STAT_NATURE_FLAG | VSI_STAT_SIZE_FLAG) != 0) {
    errno = ENOENT;
    return -1;
  }
  mode_t type = S_ISDIR(s.st_mode) ? S_IFDIR : S_IFREG;
  fill_stat(st, type, S_ISDIR(s.st_mode) ? 0 : (int64_t)s.st_size, s.st_mtime, path_ino(path));
  return 0;
}

/* ------------------------------------------------------------------ descriptors */

static int open_flags(const char *path, int flags) {
  if (writes(flags)) { errno = EACCES; return -1; }
  if (flags & O_DIRECTORY) { errno = ENOTDIR; return -1; }
  return vopen(path);
}

int stratus_open(const char *path, int flags, ...) { return open_flags(path, flags); }
int stratus_open64(const char *path, int flags, ...) { return open_flags(path, flags); }
int stratus___open_2(const char *path, int flags) { return open_flags(path, flags); }
int stratus___open64_2(const char *path, int flags) { return open_flags(path, flags); }
int stratus_creat(const char *path, mode_t mode) { (void)path; (void)mode; errno = EACCES; return -1; }
int stratus_creat64(const char *path, mode_t mode) { (void)path; (void)mode; errno = EACCES; return -1; }

static int openat_flags(int dirfd, const char *path, int flags) {
  if (path && path[0] != '/' && dirfd != AT_FDCWD) { errno = EACCES; return -1; }
  return open_flags(path, flags);
}
int stratus_openat(int dirfd, const char *path, int flags, ...) { return openat_flags(dirfd, path, flags); }
int stratus_openat64(int dirfd, const char *path, int flags, ...) { return openat_flags(dirfd, path, flags); }
int stratus___openat_2(int dirfd, const char *path, int flags) { return openat_flags(dirfd, path, flags); }
int stratus___openat64_2(int dirfd, const char *path, int flags) { return openat_flags(dirfd, path, flags); }

ssize_t stratus_read(int fd, void *buf, size_t n) {
  if (!ours(fd)) return read(fd, buf, n);
  struct vfile *f = get(fd);
  if (!f) return -1;
  pthread_mutex_lock(&f->lock);
  ssize_t got = vread_at(f, buf, n, f->pos);
  if (got > 0) f->pos += (uint64_t)got;
  pthread_mutex_unlock(&f->lock);
  put(f);
  return got;
}

ssize_t stratus___read_chk(int fd, void *buf, size_t n, size_t buflen) {
  if (!ours(fd)) return __read_chk(fd, buf, n, buflen);
  if (n > buflen) __chk_fail();
  return stratus_read(fd, buf, n);
}

ssize_t stratus_pread64(int fd, void *buf, size_t n, off64_t off) {
  if (!ours(fd)) return pread64(fd, buf, n, off);
  if (off < 0) { errno = EINVAL; return -1; }
  struct vfile *f = get(fd);
  if (!f) return -1;
  pthread_mutex_lock(&f->lock);
  ssize_t got = vread_at(f, buf, n, (uint64_t)off);
  pthread_mutex_unlock(&f->lock);
  put(f);
  return got;
}
ssize_t stratus_pread(int fd, void *buf, size_t n, off_t off) { return stratus_pread64(fd, buf, n, off); }

ssize_t stratus___pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen) {
  if (!ours(fd)) return __pread64_chk(fd, buf, n, off, buflen);
  if (n > buflen) __chk_fail();
  return stratus_pread64(fd, buf, n, off);
}
ssize_t stratus___pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) {
  return stratus___pread64_chk(fd, buf, n, off, buflen);
}

off64_t stratus_lseek64(int fd, off64_t off, int whence) {
  if (!ours(fd)) return lseek64(fd, off, whence);
  struct vfile *f = get(fd);
  if (!f) return -1;
  pthread_mutex_lock(&f->lock);
  off64_t at = vseek(f, off, whence);
  pthread_mutex_unlock(&f->lock);
  put(f);
  return at;
}
off_t stratus_lseek(int fd, off_t off, int whence) { return stratus_lseek64(fd, off, whence); }

int stratus_fstat64(int fd, struct stat64 *st) {
  if (!ours(fd)) return fstat64(fd, st);
  return vfstat(fd, st);
}
int stratus_fstat(int fd, struct stat *st) { return stratus_fstat64(fd, (struct stat64 *)st); }
int stratus___fxstat64(int ver, int fd, struct stat64 *st) { (void)ver; return stratus_fstat64(fd, st); }
int stratus___fxstat(int ver, int fd, struct stat *st) { (void)ver; return stratus_fstat(fd, st); }

int stratus_close(int fd) {
  if (!ours(fd)) return close(fd);
  struct vfile *f = get(fd);
  if (!f) return -1;
  unslot(f);
  put(f);
  return 0;
}

int stratus_flock(int fd, int op) {
  if (!ours(fd)) return flock(fd, op);
  struct vfile *f = get(fd);
  if (!f) return -1;
  put(f);
  (void)op; /* nothing else can change the file: every lock is granted */
  return 0;
}

static int vfcntl(int fd, int cmd, void *arg) {
  struct vfile *f = get(fd);
  if (!f) return -1;
  put(f);
  switch (cmd) {
    case F_GETFD: return FD_CLOEXEC;
    case F_SETFD: return 0;
    case F_GETFL: return O_RDONLY;
    case F_SETFL: return 0;
    case F_GETLK:
    case F_OFD_GETLK:
      if (arg) ((struct flock *)arg)->l_type = F_UNLCK;
      return 0;
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      if (arg && ((struct flock *)arg)->l_type == F_WRLCK) { errno = EBADF; return -1; }
      return 0;
    default: errno = EINVAL; return -1;
  }
}
int stratus_fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return ours(fd) ? vfcntl(fd, cmd, arg) : fcntl(fd, cmd, arg);
}
int stratus_fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return ours(fd) ? vfcntl(fd, cmd, arg) : fcntl(fd, cmd, arg);
}

/* Writing to one of ours: it is open read-only. */
static ssize_t not_writable(int fd) {
  struct vfile *f = get(fd);
  if (f) { put(f); errno = EBADF; }
  return -1;
}
ssize_t stratus_write(int fd, const void *buf, size_t n) {
  return ours(fd) ? not_writable(fd) : write(fd, buf, n);
}
ssize_t stratus_pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  return ours(fd) ? not_writable(fd) : pwrite64(fd, buf, n, off);
}
ssize_t stratus_pwrite(int fd, const void *buf, size_t n, off_t off) { return stratus_pwrite64(fd, buf, n, off); }
int stratus_ftruncate64(int fd, off64_t len) { return ours(fd) ? (int)not_writable(fd) : ftruncate64(fd, len); }
int stratus_ftruncate(int fd, off_t len) { return stratus_ftruncate64(fd, len); }
int stratus_fsync(int fd) {
  if (!ours(fd)) return fsync(fd);
  struct vfile *f = get(fd);
  if (!f) return -1;
  put(f);
  return 0;
}

void *stratus_mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) {
  if (ours(fd) && !(flags & MAP_ANONYMOUS)) { errno = ENODEV; return MAP_FAILED; }
  return mmap64(addr, len, prot, flags, fd, off);
}
void *stratus_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return stratus_mmap64(addr, len, prot, flags, fd, off);
}

/* ------------------------------------------------------------------ paths */

int stratus_stat64(const char *path, struct stat64 *st) { return vstat(path, st); }
int stratus_stat(const char *path, struct stat *st) { return vstat(path, (struct stat64 *)st); }
int stratus_lstat64(const char *path, struct stat64 *st) { return vstat(path, st); }
int stratus_lstat(const char *path, struct stat *st) { return vstat(path, (struct stat64 *)st); }
int stratus___xstat64(int ver, const char *path, struct stat64 *st) { (void)ver; return vstat(path, st); }
int stratus___xstat(int ver, const char *path, struct stat *st) { (void)ver; return vstat(path, (struct stat64 *)st); }
int stratus___lxstat64(int ver, const char *path, struct stat64 *st) { (void)ver; return vstat(path, st); }
int stratus___lxstat(int ver, const char *path, struct stat *st) { (void)ver; return vstat(path, (struct stat64 *)st); }

int stratus_fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
  if (path && !*path && (flags & AT_EMPTY_PATH)) return stratus_fstat64(dirfd, st);
  if (path && path[0] != '/' && dirfd != AT_FDCWD) { errno = EACCES; return -1; }
  return vstat(path, st);
}
int stratus_fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  return stratus_fstatat64(dirfd, path, (struct stat64 *)st, flags);
}
int stratus___fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags) {
  (void)ver;
  return stratus_fstatat64(dirfd, path, st, flags);
}
int stratus___fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
  (void)ver;
  return stratus_fstatat(dirfd, path, st, flags);
}

int stratus_statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *sx) {
  (void)mask;
  struct stat64 st;
  if (stratus_fstatat64(dirfd, path, &st, flags) != 0) return -1;
  memset(sx, 0, sizeof *sx);
  sx->stx_mask = STATX_BASIC_STATS;
  sx->stx_blksize = (uint32_t)st.st_blksize;
  sx->stx_nlink = (uint32_t)st.st_nlink;
  sx->stx_mode = (uint16_t)st.st_mode;
  sx->stx_ino = st.st_ino;
  sx->stx_size = (uint64_t)st.st_size;
  sx->stx_blocks = (uint64_t)st.st_blocks;
  sx->stx_mtime.tv_sec = sx->stx_atime.tv_sec = sx->stx_ctime.tv_sec = st.st_mtime;
  sx->stx_dev_minor = VFD_DEV;
  return 0;
}

int stratus_access(const char *path, int mode) {
  struct stat64 st;
  if (vstat(path, &st) != 0) return -1;
  if (mode & (W_OK | X_OK)) { errno = EACCES; return -1; }
  return 0;
}
int stratus_euidaccess(const char *path, int mode) { return stratus_access(path, mode); }
int stratus_eaccess(const char *path, int mode) { return stratus_access(path, mode); }
int stratus_faccessat(int dirfd, const char *path, int mode, int flags) {
  (void)flags;
  if (path && path[0] != '/' && dirfd != AT_FDCWD) { errno = EACCES; return -1; }
  return stratus_access(path, mode);
}

/* A path is its own canonical name on a virtual file system: realpath checks that it exists. */
char *stratus_realpath(const char *path, char *resolved) {
  struct stat64 st;
  if (vstat(path, &st) != 0) return NULL;
  size_t n = strlen(path);
  if (n >= PATH_MAX) { errno = ENAMETOOLONG; return NULL; }
  if (!resolved && !(resolved = malloc(PATH_MAX))) { errno = ENOMEM; return NULL; }
  memcpy(resolved, path, n + 1);
  return resolved;
}
char *stratus___realpath_chk(const char *path, char *resolved, size_t len) {
  if (resolved && len < PATH_MAX) __chk_fail();
  return stratus_realpath(path, resolved);
}

/* Changes to the file system: refused. */
int stratus_remove(const char *path) { (void)path; errno = EACCES; return -1; }
int stratus_unlink(const char *path) { (void)path; errno = EACCES; return -1; }
int stratus_unlinkat(int dirfd, const char *path, int flags) { (void)dirfd; (void)path; (void)flags; errno = EACCES; return -1; }
int stratus_rename(const char *from, const char *to) { (void)from; (void)to; errno = EACCES; return -1; }
int stratus_mkdir(const char *path, mode_t mode) { (void)path; (void)mode; errno = EACCES; return -1; }
int stratus_rmdir(const char *path) { (void)path; errno = EACCES; return -1; }
int stratus_truncate(const char *path, off_t len) { (void)path; (void)len; errno = EACCES; return -1; }
int stratus_truncate64(const char *path, off64_t len) { (void)path; (void)len; errno = EACCES; return -1; }
int stratus_mkstemp(char *tmpl) { (void)tmpl; errno = EACCES; return -1; }
int stratus_mkstemp64(char *tmpl) { (void)tmpl; errno = EACCES; return -1; }
int stratus_mkostemp(char *tmpl, int flags) { (void)tmpl; (void)flags; errno = EACCES; return -1; }
int stratus_mkostemp64(char *tmpl, int flags) { (void)tmpl; (void)flags; errno = EACCES; return -1; }
FILE *stratus_tmpfile(void) { errno = EACCES; return NULL; }
FILE *stratus_tmpfile64(void) { errno = EACCES; return NULL; }

/* ------------------------------------------------------------------ stdio */

static ssize_t cookie_read(void *c, char *buf, size_t n) {
  struct vfile *f = c;
  pthread_mutex_lock(&f->lock);
  ssize_t got = vread_at(f, buf, n, f->pos);
  if (got > 0) f->pos += (uint64_t)got;
  pthread_mutex_unlock(&f->lock);
  return got;
}
static ssize_t cookie_write(void *c, const char *buf, size_t n) {
  (void)c; (void)buf; (void)n;
  errno = EBADF;
  return -1;
}
static int cookie_seek(void *c, off64_t *pos, int whence) {
  struct vfile *f = c;
  pthread_mutex_lock(&f->lock);
  off64_t at = vseek(f, *pos, whence);
  pthread_mutex_unlock(&f->lock);
  if (at < 0) return -1;
  *pos = at;
  return 0;
}
static int cookie_close(void *c) {
  struct vfile *f = c;
  unslot(f); /* fclose closes the descriptor under the FILE */
  put(f);    /* the FILE's own reference */
  return 0;
}

/* A FILE on our descriptor fd (a reference of its own). */
static FILE *stream_on(int fd) {
  struct vfile *f = get(fd);
  if (!f) return NULL;
  cookie_io_functions_t io = {cookie_read, cookie_write, cookie_seek, cookie_close};
  FILE *s = fopencookie(f, "r", io);
  if (!s) { put(f); return NULL; }
  pthread_mutex_lock(&table_lock);
  f->stream = s;
  pthread_mutex_unlock(&table_lock);
  return s;
}

FILE *stratus_fopen(const char *path, const char *mode) {
  if (mode_writes(mode)) { errno = EACCES; return NULL; }
  int fd = vopen(path);
  if (fd < 0) return NULL;
  FILE *s = stream_on(fd); /* the descriptor stays in the table until fclose: fileno */
  if (!s) {
    int saved = errno;
    stratus_close(fd);
    errno = saved;
  }
  return s;
}
FILE *stratus_fopen64(const char *path, const char *mode) { return stratus_fopen(path, mode); }

FILE *stratus_fdopen(int fd, const char *mode) {
  if (!ours(fd)) return fdopen(fd, mode);
  if (mode_writes(mode)) { errno = EACCES; return NULL; }
  return stream_on(fd);
}

/* Ours if a FILE of ours: its descriptor. */
static int stream_fd(FILE *s) {
  int fd = -1;
  pthread_mutex_lock(&table_lock);
  for (int i = 0; i < table_used; i++)
    if (table[i] && table[i]->stream == s) { fd = table[i]->fd; break; }
  pthread_mutex_unlock(&table_lock);
  return fd;
}
int stratus_fileno(FILE *s) {
  int fd = stream_fd(s);
  return fd >= 0 ? fd : fileno(s);
}
int stratus_fileno_unlocked(FILE *s) {
  int fd = stream_fd(s);
  return fd >= 0 ? fd : fileno_unlocked(s);
}

/* freopen on a new path: the stream is closed and a FILE of ours returned (another pointer,
 * which callers of freopen use); a change of mode only is the C library's, for a FILE not ours. */
FILE *stratus_freopen(const char *path, const char *mode, FILE *s) {
  if (!path) {
    if (stream_fd(s) < 0) return freopen(path, mode, s);
    if (mode_writes(mode)) { fclose(s); errno = EACCES; return NULL; }
    return s;
  }
  if (s) fclose(s);
  return stratus_fopen(path, mode);
}
FILE *stratus_freopen64(const char *path, const char *mode, FILE *s) { return stratus_freopen(path, mode, s); }

/* ------------------------------------------------------------------ directories */

#define VDIR_MAGIC 0x56534944495200ULL
struct vdir {
  uint64_t magic;
  VSIDIR *dir;
  struct dirent64 ent;
};
_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "LP64 glibc: one dirent layout");

DIR *stratus_opendir(const char *path) {
  if (!path) { errno = EFAULT; return NULL; }
  struct vdir *d = calloc(1, sizeof *d);
  if (!d) { errno = ENOMEM; return NULL; }
  d->magic = VDIR_MAGIC;
  if (!*path || !(d->dir = VSIOpenDir(path, 0, NULL))) {
    free(d);
    errno = ENOENT;
    return NULL;
  }
  return (DIR *)d;
}

static struct vdir *vdir_of(DIR *d) {
  struct vdir *v = (struct vdir *)d;
  return v && v->magic == VDIR_MAGIC ? v : NULL;
}

struct dirent64 *stratus_readdir64(DIR *d) {
  struct vdir *v = vdir_of(d);
  if (!v) return readdir64(d);
  const VSIDIREntry *e = VSIGetNextDirEntry(v->dir);
  if (!e) return NULL;
  memset(&v->ent, 0, sizeof v->ent);
  v->ent.d_ino = path_ino(e->pszName);
  v->ent.d_reclen = sizeof v->ent;
  v->ent.d_type = !e->bModeKnown ? DT_UNKNOWN : VSI_ISDIR(e->nMode) ? DT_DIR : DT_REG;
  snprintf(v->ent.d_name, sizeof v->ent.d_name, "%s", e->pszName);
  return &v->ent;
}
struct dirent *stratus_readdir(DIR *d) {
  struct vdir *v = vdir_of(d);
  if (!v) return readdir(d);
  return (struct dirent *)stratus_readdir64(d);
}

int stratus_closedir(DIR *d) {
  struct vdir *v = vdir_of(d);
  if (!v) return closedir(d);
  VSICloseDir(v->dir);
  v->magic = 0;
  free(v);
  return 0;
}

/* ------------------------------------------------------------------ shared libraries */

/* A plugin (HDF5's filters, netCDF's format plugins) is a file the dynamic loader would map:
 * refused, whatever the path. The path is still asked of GDAL's file systems, so a refusing
 * one records it. dlopen(NULL), the program itself, is the C library's. */
static __thread int dl_refused __attribute__((tls_model("initial-exec")));
void *stratus_dlopen(const char *path, int flags) {
  if (!path) return dlopen(path, flags);
  VSIStatBufL s;
  if (VSIStatExL(path, &s, VSI_STAT_EXISTS_FLAG) == 0) { /* refused all the same */
  }
  dl_refused = 1;
  return NULL;
}
char *stratus_dlerror(void) {
  if (!dl_refused) return dlerror();
  dl_refused = 0;
  return (char *)"loading a shared library is refused (GDAL's file systems serve this library's files)";
}
