/*
 * plugin/absl.h — Abseil's settings for the provider (plugin/absl.cc).
 */
#ifndef CR_PLUGIN_ABSL_H
#define CR_PLUGIN_ABSL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Turns off Abseil's mutex deadlock detection (absl.cc says why). Call
 * before gRPC starts (grpc_init): it applies to the locks taken after. */
void cr_absl_configure(void);

#ifdef __cplusplus
}
#endif

#endif
