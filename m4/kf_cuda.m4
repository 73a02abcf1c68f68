# KF_CHECK_CUDA: --with-cuda[=DIR], after UCX's config/m4/cuda.m4.
# yes: require it; no: skip; DIR: look there; default (guess): use it when found.
# Sets have_cuda, CUDA_CPPFLAGS, CUDA_LDFLAGS, CUDA_LIBS, NVCC and the HAVE_CUDA conditional.
AC_DEFUN([KF_CHECK_CUDA], [
  AC_ARG_WITH([cuda],
    [AS_HELP_STRING([--with-cuda@<:@=DIR@:>@], [CUDA kernels for kf train/serve --device cuda @<:@guess@:>@])],
    [], [with_cuda=guess])
  have_cuda=no
  CUDA_DIR=
  AS_IF([test "x$with_cuda" != xno], [
    AS_CASE(["x$with_cuda"],
      [xyes|xguess], [CUDA_DIR=/usr/local/cuda],
      [CUDA_DIR=$with_cuda])
    save_CPPFLAGS=$CPPFLAGS; save_LDFLAGS=$LDFLAGS; save_LIBS=$LIBS
    CUDA_CPPFLAGS="-I$CUDA_DIR/include"
    CUDA_LDFLAGS="-L$CUDA_DIR/lib64 -L$CUDA_DIR/lib"
    CPPFLAGS="$CPPFLAGS $CUDA_CPPFLAGS"; LDFLAGS="$LDFLAGS $CUDA_LDFLAGS"
    AC_CHECK_HEADER([cuda_runtime.h],
      [AC_CHECK_LIB([cudart], [cudaMalloc], [have_cuda=yes; CUDA_LIBS="-lcudart"])])
    CPPFLAGS=$save_CPPFLAGS; LDFLAGS=$save_LDFLAGS; LIBS=$save_LIBS
    AC_PATH_PROG([NVCC], [nvcc], [no], [$CUDA_DIR/bin:$PATH])
    AS_IF([test "x$NVCC" = xno], [have_cuda=no])
    AS_IF([test "x$have_cuda" = xno], [
      CUDA_CPPFLAGS=; CUDA_LDFLAGS=; CUDA_DIR=
      AS_IF([test "x$with_cuda" != xguess], [AC_MSG_ERROR([CUDA requested but cuda_runtime.h, libcudart or nvcc not found])])])
  ])
  AS_IF([test "x$have_cuda" = xyes], [AC_DEFINE([KF_HAVE_CUDA], [1], [CUDA kernels are built in])])
  AC_SUBST([CUDA_CPPFLAGS]) AC_SUBST([CUDA_LDFLAGS]) AC_SUBST([CUDA_LIBS]) AC_SUBST([NVCC])
  AM_CONDITIONAL([HAVE_CUDA], [test "x$have_cuda" = xyes])
])
