/*
 * The `lux plot` driver (plots.h): load, write every data file and script,
 * run gnuplot on each, write index.html.
 */
#include "plots.h"

#include "alloc.h"
#include "curves.h"
#include "error.h"
#include "parcoords.h"
#include "pbt.h"
#include "plot_data.h"
#include "plot_util.h"
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p for a path whose parents may be missing. */
static int make_dirs(const char *path, char *err, size_t errlen)
{
    char *p = lux_strdup(path);
    if (p == NULL)
        return LUX_ENOMEM;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create the directory %s: %s", p, strerror(errno));
            lux_free(p);
            return LUX_EIO;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    int ok = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    if (!ok)
        snprintf(err, errlen, "%s is not a directory", path);
    lux_free(p);
    return ok ? 0 : LUX_EIO;
}

int lux_plots_make(lux_store_t *store, const lux_plots_options_t *opts, char **index_path,
                   size_t *nfigures, char *err, size_t errlen)
{
    lux_plots_options_t o = opts != NULL ? *opts : (lux_plots_options_t){0};
    if (index_path != NULL)
        *index_path = NULL;
    if (nfigures != NULL)
        *nfigures = 0;
    char *gnuplot = NULL, *outdir = NULL, *datadir = NULL;
    lux_plot_data_t *data = NULL;
    lux_plot_ctx_t ctx = {0};
    int rc;

    if (o.gnuplot != NULL)
        gnuplot = lux_strdup(o.gnuplot);
    else if ((rc = lux_gnuplot_find(&gnuplot, err, errlen)) != 0)
        return rc;
    if (gnuplot == NULL) {
        snprintf(err, errlen, "out of memory");
        return LUX_ENOMEM;
    }

    const char *dir = lux_store_dir(store);
    size_t n = (o.outdir ? strlen(o.outdir) : strlen(dir) + 8) + 8;
    outdir = lux_malloc(n);
    datadir = lux_malloc(n);
    rc = LUX_ENOMEM;
    if (outdir == NULL || datadir == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (o.outdir)
        snprintf(outdir, n, "%s", o.outdir);
    else
        snprintf(outdir, n, "%s/plots", dir);
    snprintf(datadir, n, "%s/data", outdir);
    if ((rc = make_dirs(datadir, err, errlen)) != 0)
        goto done;

    if ((rc = lux_plot_data_load(store, o.metric, o.mode, &data, err, errlen)) != 0)
        goto done;
    ctx.data = data;
    ctx.outdir = outdir;
    ctx.format = o.format;
    ctx.err = err;
    ctx.errlen = errlen;
    if ((rc = lux_parcoords_write(&ctx)) != 0 || (rc = lux_curves_write(&ctx)) != 0)
        goto done;
    if (lux_pbt_plots_apply(data) && (rc = lux_pbt_plots_write(&ctx)) != 0)
        goto done;

    /* Render every figure; keep the first failure. */
    double timeout = o.timeout_s > 0 ? o.timeout_s : 300;
    int first_rc = 0;
    for (size_t i = 0; i < ctx.nfigures; i++) {
        char script[96], msg[1024];
        snprintf(script, sizeof script, "data/%s.gp", ctx.figures[i].stem);
        int r = lux_gnuplot_run(gnuplot, outdir, script, timeout, msg, sizeof msg);
        if (r != 0 && first_rc == 0) {
            first_rc = r;
            snprintf(err, errlen, "%s", msg);
        }
    }
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", first_rc ? err : "");
    if ((rc = lux_report_write(&ctx)) != 0)
        goto done;
    if (first_rc != 0) {
        snprintf(err, errlen, "%s", saved);
        rc = first_rc;
        goto done;
    }
    if (index_path != NULL) {
        size_t m = strlen(outdir) + 16;
        *index_path = lux_malloc(m);
        if (*index_path == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = LUX_ENOMEM;
            goto done;
        }
        snprintf(*index_path, m, "%s/index.html", outdir);
    }
    if (nfigures != NULL)
        *nfigures = ctx.nfigures;
    rc = 0;
done:
    lux_plot_ctx_fini(&ctx);
    lux_plot_data_destroy(&data);
    lux_free(gnuplot);
    lux_free(outdir);
    lux_free(datadir);
    return rc;
}
