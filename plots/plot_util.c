/*
 * Helpers shared by the plot modules (plot_util.h).
 */
#include "plot_util.h"

#include "alloc.h"
#include "error.h"
#include "fs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int lux_plot_add_figure(lux_plot_ctx_t *ctx, const char *stem, const char *title,
                        const char *caption)
{
    lux_plot_figure_t *f = lux_realloc(ctx->figures, (ctx->nfigures + 1) * sizeof *f);
    if (f == NULL)
        return LUX_ENOMEM;
    ctx->figures = f;
    lux_plot_figure_t *fig = &f[ctx->nfigures];
    memset(fig, 0, sizeof *fig);
    snprintf(fig->stem, sizeof fig->stem, "%s", stem);
    fig->title = lux_strdup(title);
    fig->caption = lux_strdup(caption);
    if (fig->title == NULL || fig->caption == NULL) {
        lux_free(fig->title);
        lux_free(fig->caption);
        return LUX_ENOMEM;
    }
    ctx->nfigures++;
    return 0;
}

void lux_plot_ctx_fini(lux_plot_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->nfigures; i++) {
        lux_free(ctx->figures[i].title);
        lux_free(ctx->figures[i].caption);
    }
    lux_free(ctx->figures);
    ctx->figures = NULL;
    ctx->nfigures = 0;
}

FILE *lux_plot_open(lux_plot_ctx_t *ctx, const char *stem, const char *ext)
{
    size_t n = strlen(ctx->outdir) + strlen(stem) + strlen(ext) + 16;
    char *path = lux_malloc(n);
    if (path == NULL) {
        snprintf(ctx->err, ctx->errlen, "out of memory");
        return NULL;
    }
    snprintf(path, n, "%s/data/%s.%s", ctx->outdir, stem, ext);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        snprintf(ctx->err, ctx->errlen, "cannot create %s: %s", path, strerror(errno));
    lux_free(path);
    return f;
}

int lux_plot_close(lux_plot_ctx_t *ctx, FILE *f, const char *stem, const char *ext)
{
    long size = ftell(f); /* what the file was to hold, for a full disk's message */
    int bad = ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    if (bad) {
        int e = errno ? errno : EIO;
        char path[4096];
        snprintf(path, sizeof path, "%s/data/%s.%s", ctx->outdir, stem, ext);
        if (lux_error_from_errno(e) == LUX_ENOSPC) {
            lux_fs_nospc_message(ctx->err, ctx->errlen, path,
                                 size > 0 ? (unsigned long long)size : 1);
            return LUX_ENOSPC;
        }
        snprintf(ctx->err, ctx->errlen, "cannot write %s: %s", path, strerror(e));
        return LUX_EIO;
    }
    return 0;
}

void lux_plot_put_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.10g", v);
    else
        fputs("NaN", f);
}

void lux_plot_format_tick(double v, char *buf, size_t len)
{
    if (fabs(v) < 1e-300)
        v = 0;
    snprintf(buf, len, "%.4g", v);
}

size_t lux_plot_linear_ticks(double lo, double hi, double *ticks, size_t max)
{
    if (max == 0 || !isfinite(lo) || !isfinite(hi))
        return 0;
    if (hi <= lo) {
        ticks[0] = lo;
        return 1;
    }
    double raw = (hi - lo) / 4;
    double mag = pow(10, floor(log10(raw)));
    double step = mag;
    if (raw / mag >= 5)
        step = 5 * mag;
    else if (raw / mag >= 2)
        step = 2 * mag;
    size_t n = 0;
    for (double k = ceil(lo / step - 1e-9); n < max; k++) {
        double v = k * step;
        if (v > hi + step * 1e-9)
            break;
        if (fabs(v) < step * 1e-9)
            v = 0; /* no "-1.2e-17" for zero */
        ticks[n++] = v;
    }
    return n;
}

size_t lux_plot_log_ticks(double lo, double hi, double *ticks, size_t max)
{
    if (max == 0 || !isfinite(lo) || !isfinite(hi))
        return 0;
    if (hi <= lo) {
        ticks[0] = pow(10, lo);
        return 1;
    }
    static const double mults[] = {1, 2, 5};
    size_t nm = hi - lo < 2 ? 3 : 1;
    double eps = 1e-9;
    size_t n = 0;
    for (double e = floor(lo); e <= ceil(hi) && n < max; e++) {
        for (size_t m = 0; m < nm && n < max; m++) {
            double v = mults[m] * pow(10, e);
            double lv = log10(v);
            if (lv >= lo - eps && lv <= hi + eps)
                ticks[n++] = v;
        }
    }
    if (n < 2 && max >= 2) {
        ticks[0] = pow(10, lo);
        ticks[1] = pow(10, hi);
        n = 2;
    }
    return n;
}

void lux_plot_put_palette(FILE *f, bool mode_max)
{
    /* Viridis at five stops: dark blue (worse) to yellow (better). */
    static const char *const stops[] = {"#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"};
    fputs("set palette defined (", f);
    for (int i = 0; i < 5; i++)
        fprintf(f, "%s%d '%s'", i ? ", " : "", i, stops[mode_max ? i : 4 - i]);
    fputs(")\n", f);
}

void lux_plot_put_preamble(lux_plot_ctx_t *ctx, FILE *f, const char *stem, int width, int height)
{
    char output[96];
    snprintf(output, sizeof output, "%s.%s", stem, lux_plot_format_name(ctx->format));
    fputs("# Written by lux plot; run from the plot directory: gnuplot data/", f);
    fprintf(f, "%s.gp\n", stem);
    fputs("reset\n", f);
    lux_gnuplot_terminal(f, ctx->format, width, height, output);
    fputs("set encoding utf8\n"
          "set datafile missing 'NaN'\n"
          "set border lc rgb '#404040'\n"
          "set grid lc rgb '#e0e0e0' lw 1\n"
          "set key noenhanced\n",
          f);
}

int lux_plot_config_number(const json_t *config, const char *path, double *out)
{
    const json_t *v = lux_plot_config_value(config, path);
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1 : 0;
        return 0;
    }
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    return isfinite(*out) ? 0 : -1;
}
