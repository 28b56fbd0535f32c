/*
 * gen/main.c — the cellgen command line.
 *
 *   cellgen [-o OUTDIR] [--modules-dir DIR] [--ci-dir DIR] [--check] [--stats] SPEC.yaml
 *
 * Reads the spec, reports every problem as file:line:col (exit 1, nothing
 * written), renders all files in memory, then either writes those that
 * changed (atomically: temp file + rename) or, with --check, prints a
 * unified diff of every file that differs from the disk and exits 1.
 * Exit 2 is for usage and I/O errors.
 */
#include "diff.h"
#include "generate.h"
#include "spec.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cellgen [-o OUTDIR] [--modules-dir DIR] [--ci-dir DIR] [--check] [--stats] SPEC.yaml\n"
            "\n"
            "Writes modules/aws_event_cell, modules/azure_event_cell and the root\n"
            "configuration for the cells and tenants described in SPEC.yaml.\n"
            "\n"
            "  -o OUTDIR          root configuration directory (default examples/multicloud)\n"
            "  --modules-dir DIR  where the modules go (default modules)\n"
            "  --ci-dir DIR       where the pipeline of the spec's ci section goes: the\n"
            "                     repository's top (.github/workflows/cells.yml or\n"
            "                     .gitlab-ci.yml); default OUTDIR. Run cellgen from the\n"
            "                     repository's top: the pipeline repeats its paths\n"
            "  --check            write nothing; exit 1 with a unified diff if any\n"
            "                     generated file differs from the disk or is missing\n"
            "  --stats            print generation time and peak memory on stderr\n"
            "  --version          print cellgen's version and exit\n");
}

/* Reads a whole file. Returns 0, -1 with errno set, or -2 when it is
 * larger than limit. */
static int read_file(const char *path, size_t limit, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return -1; }
    /* Files and pipes (cellgen <(...)); the size limit applies while reading. */
    if (S_ISDIR(st.st_mode)) { close(fd); errno = EISDIR; return -1; }
    cg_buf b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            cg_buf_free(&b);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        if (b.len + (size_t)n > limit) {
            close(fd);
            cg_buf_free(&b);
            return -2;
        }
        cg_buf_put(&b, chunk, (size_t)n);
    }
    close(fd);
    *len = b.len;
    *out = cg_buf_steal(&b);
    return 0;
}

static int mkdirs(const char *path)
{
    char *p = cg_xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) { free(p); return -1; }
        *s = '/';
    }
    int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

static int write_atomic(const char *path, const char *data, size_t len)
{
    char *dir = cg_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (mkdirs(dir) != 0) { free(dir); return -1; }
    }
    free(dir);
    char *tmp = cg_xasprintf("%s.cellgen-tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { free(tmp); return -1; }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            errno = e;
            return -1;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    const char *out_dir = "examples/multicloud", *modules_dir = "modules", *spec_path = NULL, *ci_dir = NULL;
    bool check = false, stats = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--modules-dir") || !strcmp(a, "--ci-dir")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "cellgen: %s needs a directory\n", a);
                return 2;
            }
            if (!strcmp(a, "-o")) out_dir = argv[++i];
            else if (!strcmp(a, "--ci-dir")) ci_dir = argv[++i];
            else modules_dir = argv[++i];
        } else if (!strcmp(a, "--check")) {
            check = true;
        } else if (!strcmp(a, "--stats")) {
            stats = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {   /* CR_RELEASE_VERSION: the VERSION file */
            printf("cellgen %s\n", CR_RELEASE_VERSION);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "cellgen: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (spec_path) {
            fprintf(stderr, "cellgen: one spec at a time (got %s and %s)\n", spec_path, a);
            return 2;
        } else {
            spec_path = a;
        }
    }
    if (!spec_path) {
        usage(stderr);
        return 2;
    }
    if (!*out_dir || !*modules_dir || (ci_dir && !*ci_dir)) {
        fprintf(stderr, "cellgen: output directories must not be empty\n");
        return 2;
    }

    double t0 = now_ms();
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(spec_path, CG_YAML_MAX_INPUT, &text, &len);
    if (rc == -2) {
        fprintf(stderr, "%s: spec is larger than %u bytes\n", spec_path, CG_YAML_MAX_INPUT);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "cellgen: cannot read %s: %s\n", spec_path, strerror(errno));
        return 2;
    }
    cg_diags diags = {0};
    cg_spec spec;
    if (cg_spec_load(text, len, &spec, &diags) != 0) {
        cg_diags_print(&diags, spec_path, stderr);
        fprintf(stderr, "cellgen: %zu problem%s in %s; nothing written\n", diags.len,
                diags.len == 1 ? "" : "s", spec_path);
        cg_diags_free(&diags);
        free(text);
        return 1;
    }
    free(text);
    double t_parse = now_ms();

    cg_gen_opts opts = { base_name(spec_path), out_dir, modules_dir, spec_path, ci_dir };
    cg_fileset files = {0};
    char *err = NULL;
    if (cg_generate(&spec, &opts, &files, &err) != 0) {
        fprintf(stderr, "cellgen: %s\n", err);
        free(err);
        cg_spec_free(&spec);
        return 2;
    }
    double t_gen = now_ms();

    int status = 0;
    size_t stale = 0, written = 0, bytes = 0;
    cg_buf diff = {0};
    for (size_t i = 0; i < files.len; i++) {
        const cg_file *f = &files.items[i];
        bytes += f->len;
        char *old = NULL;
        size_t oldlen = 0;
        int r = read_file(f->path, (size_t)1 << 30, &old, &oldlen);
        if (r != 0 && errno != ENOENT) {
            fprintf(stderr, "cellgen: cannot read %s: %s\n", f->path, r == -2 ? "too large" : strerror(errno));
            status = 2;
            continue;
        }
        bool same = r == 0 && oldlen == f->len && memcmp(old, f->content, f->len) == 0;
        if (!same && check) {
            /* a/ and b/ prefixes as git writes them, so `patch -p1` applies
             * the output; absolute paths are shown as they are. */
            const char *pa = f->path[0] == '/' ? "" : "a/", *pb = f->path[0] == '/' ? "" : "b/";
            char *la = r == 0 ? cg_xasprintf("%s%s", pa, f->path) : cg_xstrdup("/dev/null");
            char *lb = cg_xasprintf("%s%s", pb, f->path);
            cg_diff_unified(r == 0 ? old : "", r == 0 ? oldlen : 0, f->content, f->len, la, lb, &diff);
            fwrite(diff.p, 1, diff.len, stdout);
            diff.len = 0;
            free(la);
            free(lb);
            stale++;
            if (status == 0) status = 1;
        } else if (!same) {
            if (write_atomic(f->path, f->content, f->len) != 0) {
                fprintf(stderr, "cellgen: cannot write %s: %s\n", f->path, strerror(errno));
                status = 2;
            } else {
                written++;
            }
        }
        free(old);
    }
    cg_buf_free(&diff);
    if (check && stale)
        fprintf(stderr, "cellgen: %zu generated file%s out of date with %s; run: cellgen -o %s --modules-dir %s%s%s %s\n",
                stale, stale == 1 ? " is" : "s are", spec_path, out_dir, modules_dir, ci_dir ? " --ci-dir " : "",
                ci_dir ? ci_dir : "", spec_path);
    else if (!check && status == 0)
        fprintf(stderr, "cellgen: %zu file%s written, %zu unchanged\n", written, written == 1 ? "" : "s",
                files.len - written);

    if (stats) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "cellgen: stats: %zu cells, %zu tenants, %zu files, %zu bytes; parse+check %.1f ms, "
                "render %.1f ms, total %.1f ms; peak RSS %ld KiB\n",
                spec.ncells, spec.ntenants, files.len, bytes, t_parse - t0, t_gen - t_parse, now_ms() - t0,
                ru.ru_maxrss);
    }
    cg_fileset_free(&files);
    cg_spec_free(&spec);
    return status;
}
