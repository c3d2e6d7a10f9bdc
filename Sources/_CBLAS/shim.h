#ifndef ADA_CBLAS_SHIM_H
#define ADA_CBLAS_SHIM_H
// OpenBLAS's CBLAS interface (Debian: libopenblas-dev).
#include <cblas.h>

// LAPACK routines from OpenBLAS's bundled Fortran LAPACK, called on column-major data
// (faster than row-major LAPACKE here). Hidden string-length arguments are omitted: the
// routines used take single-character flags only.
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void strtri_(const char *uplo, const char *diag, const int *n, float *a, const int *lda, int *info);
void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info);
#endif
