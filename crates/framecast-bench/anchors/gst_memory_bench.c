/* GStreamer anchor for `framecast bench memory`: the same operations, timed
 * the same way (median of 5 runs), so the two can be compared as ratios in
 * one run on one machine. Built and run by the framecast CLI when
 * `cc` and GStreamer's development files are present.
 *
 * Usage: gst_memory_bench ITERS FRAMES
 * Prints one line per case: "<case>\t<ns per op>".
 */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*op_fn)(void *ctx, guint64 i);

static void measure(const char *name, guint64 iters, op_fn op, void *ctx) {
  double runs[5];
  guint64 warm = iters < 1000 ? iters : 1000;
  for (guint64 i = 0; i < warm; i++) op(ctx, i);
  for (int r = 0; r < 5; r++) {
    double start = now_ns();
    for (guint64 i = 0; i < iters; i++) op(ctx, i);
    runs[r] = (now_ns() - start) / (double)iters;
  }
  qsort(runs, 5, sizeof(double), cmp_double);
  printf("%s\t%.1f\n", name, runs[2]);
  fflush(stdout);
}

static void pool_cycle(void *ctx, guint64 i) {
  GstBuffer *b = NULL;
  (void)i;
  if (gst_buffer_pool_acquire_buffer((GstBufferPool *)ctx, &b, NULL) == GST_FLOW_OK)
    gst_buffer_unref(b);
}

static void ref_unref(void *ctx, guint64 i) {
  (void)i;
  gst_buffer_unref(gst_buffer_ref((GstBuffer *)ctx));
}

static void map_read(void *ctx, guint64 i) {
  GstMapInfo map;
  (void)i;
  if (gst_buffer_map((GstBuffer *)ctx, &map, GST_MAP_READ)) gst_buffer_unmap((GstBuffer *)ctx, &map);
}

static void map_write(void *ctx, guint64 i) {
  GstMapInfo map;
  if (gst_buffer_map((GstBuffer *)ctx, &map, GST_MAP_WRITE)) {
    map.data[0] = (guint8)i;
    gst_buffer_unmap((GstBuffer *)ctx, &map);
  }
}

static GstCaps *ref_caps;

static void meta_cycle(void *ctx, guint64 i) {
  GstBuffer *b = (GstBuffer *)ctx;
  GstReferenceTimestampMeta *m = gst_buffer_add_reference_timestamp_meta(b, ref_caps, i, GST_CLOCK_TIME_NONE);
  (void)m;
  GstReferenceTimestampMeta *got = gst_buffer_get_reference_timestamp_meta(b, NULL);
  if (got) gst_buffer_remove_meta(b, (GstMeta *)got);
}

typedef struct {
  GstBufferPool *pool;
  gsize size;
} FrameCtx;

static void pooled_fill(void *ctx, guint64 i) {
  FrameCtx *f = ctx;
  GstBuffer *b = NULL;
  GstMapInfo map;
  if (gst_buffer_pool_acquire_buffer(f->pool, &b, NULL) != GST_FLOW_OK) return;
  if (gst_buffer_map(b, &map, GST_MAP_WRITE)) {
    memset(map.data, (int)(i & 0xff), map.size);
    gst_buffer_unmap(b, &map);
  }
  gst_buffer_unref(b);
}

static void fresh_fill(void *ctx, guint64 i) {
  FrameCtx *f = ctx;
  GstMapInfo map;
  GstBuffer *b = gst_buffer_new_allocate(NULL, f->size, NULL);
  if (gst_buffer_map(b, &map, GST_MAP_WRITE)) {
    memset(map.data, (int)(i & 0xff), map.size);
    gst_buffer_unmap(b, &map);
  }
  gst_buffer_unref(b);
}

static const guint8 *frame_bytes;

static void fresh_copy(void *ctx, guint64 i) {
  FrameCtx *f = ctx;
  (void)i;
  gst_buffer_unref(gst_buffer_new_memdup(frame_bytes, f->size));
}

static void fresh_only(void *ctx, guint64 i) {
  FrameCtx *f = ctx;
  (void)i;
  gst_buffer_unref(gst_buffer_new_allocate(NULL, f->size, NULL));
}

int main(int argc, char **argv) {
  guint64 iters = argc > 1 ? g_ascii_strtoull(argv[1], NULL, 10) : 1000000;
  guint64 frames = argc > 2 ? g_ascii_strtoull(argv[2], NULL, 10) : 300;
  gst_init(NULL, NULL);

  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, 1920, 1080);
  GstCaps *caps = gst_video_info_to_caps(&info);
  GstBufferPool *pool = gst_video_buffer_pool_new();
  GstStructure *config = gst_buffer_pool_get_config(pool);
  GstAllocationParams params;
  gst_allocation_params_init(&params);
  params.align = 63;
  gst_buffer_pool_config_set_params(config, caps, info.size, 2, 4);
  gst_buffer_pool_config_set_allocator(config, NULL, &params);
  gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE)) {
    fprintf(stderr, "pool setup failed\n");
    return 1;
  }
  ref_caps = gst_caps_from_string("timestamp/x-framecast-capture");

  measure("pool acquire+release, 1080p I420", iters, pool_cycle, pool);
  GstBuffer *shared = NULL;
  gst_buffer_pool_acquire_buffer(pool, &shared, NULL);
  measure("buffer clone+drop", iters, ref_unref, shared);
  measure("map readable (1080p memory)", iters, map_read, shared);
  measure("map writable (1080p memory)", iters, map_write, shared);
  gst_buffer_unref(shared);
  GstBuffer *meta_buf = gst_buffer_new();
  measure("meta add+get+remove (reference timestamp)", iters, meta_cycle, meta_buf);
  gst_buffer_unref(meta_buf);
  FrameCtx f = {pool, info.size};
  measure("pooled 1080p frame: acquire, fill, release", frames, pooled_fill, &f);
  measure("seed pattern: fresh 1080p buffer, fill, free", frames, fresh_fill, &f);
  guint8 *bytes = g_malloc(info.size);
  for (gsize k = 0; k < info.size; k++) bytes[k] = (guint8)k;
  frame_bytes = bytes;
  measure("fresh 1080p buffer from a slice (copy in), free", frames, fresh_copy, &f);
  measure("fresh 1080p buffer, allocate+free only", frames, fresh_only, &f);
  g_free(bytes);

  gst_buffer_pool_set_active(pool, FALSE);
  gst_object_unref(pool);
  gst_caps_unref(caps);
  gst_caps_unref(ref_caps);
  return 0;
}
