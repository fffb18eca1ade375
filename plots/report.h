/*
 * index.html: one page that shows every figure of a `lux plot` run and a
 * table of the best trials, so opening one file shows everything. Images
 * are referenced by relative name (<img> for PNG and SVG, <object> for PDF),
 * so the plot directory can be moved or copied as a whole. Every string from
 * the experiment is HTML-escaped; the page has no scripts and no external
 * resources.
 */
#ifndef LUX_REPORT_H
#define LUX_REPORT_H

#include "plot_util.h"

/* The best trials listed in the table. */
#define LUX_REPORT_BEST 10

/* Writes OUTDIR/index.html (through a temporary file renamed into place) for
 * the figures registered in ctx. 0, or LUX_EIO / LUX_ENOMEM with a message
 * in ctx->err. */
int lux_report_write(lux_plot_ctx_t *ctx);

#endif
