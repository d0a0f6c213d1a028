/* The common receiver of `framecast-bench latency`: every sender
 * (framecast, GStreamer, FFmpeg) is measured by this one program, so the
 * receive side costs the same for all of them.
 *
 *   udpsrc address=127.0.0.1 port=P buffer-size=4194304 caps=RTP/H264/96
 *     ! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=I420
 *     ! appsink sync=false async=false
 *
 * (videoconvert passes through when the decoder gives I420; async=false
 * lets the pipeline reach PLAYING before the first frame, so "# ready"
 * can be said before any sender starts.)
 *
 * The moment a frame comes out of the decoder (the appsink callback), it
 * takes CLOCK_MONOTONIC, reads the stamp painted in the frame's top rows
 * (framecast's frame-counter stamp, elements/video/counter.rs: 160 bits,
 * frame number, CLOCK_MONOTONIC ns and check value, MSB first, as square
 * blocks in raster order, width/16 a row at 16x16; a bit is set when the
 * mean luma of the block's inner half is above mid-grey) and prints
 *
 *   <frame>\t<latency ns>\t<first packet ns>\t<last packet ns>
 *
 * for each stamp whose check value matches; the packet times are when the
 * frame's first and last (marker) RTP packets came out of udpsrc, from
 * the stamp, which splits the latency into the sender's share (network
 * included) and the receiver's. Stamps that fail the check
 * (a damaged or concealed picture) are counted, not printed.
 *
 * Lines starting with '#' are status: "# ready" once the pipeline plays,
 * "# frames=<n> bad=<m> payload-bytes=<b>" last (b: RTP payload bytes received), at end-of-stream, SIGTERM/SIGINT, or after
 * SECONDS. Exit status 0 then; 1 with a message on stderr when the
 * pipeline fails.
 *
 * With a third argument, JITTER_MS (`framecast-bench impairments`), an
 * `rtpjitterbuffer latency=JITTER_MS` goes between udpsrc and the
 * depayloader (it orders and waits for late packets as a GStreamer
 * receiver on a real network would), and every frame out of the decoder,
 * whole stamp or not, is also announced as "# decoded <now ns>", so
 * freezes can be measured over concealed pictures too.
 *
 * Usage: gst_latency_receiver PORT SECONDS [JITTER_MS]
 */
#include <glib-unix.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Bits in a stamp: frame number (64), time (64), check value (32). */
#define BITS 160

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline;
  GstCaps *caps;       /* caps `info` was parsed from (one ref held) */
  GstVideoInfo info;
  guint64 frames;      /* stamps read */
  guint64 bad;         /* frames whose stamp failed the check */
  gboolean ready;
  int status;          /* exit status */
  guint32 rtp_ts;      /* RTP timestamp of the packets arriving now */
  uint64_t first_ns;   /* when its first packet came out of udpsrc */
  uint64_t marker_ns;  /* when the last packet (marker bit) of the newest whole frame did */
  uint64_t marker_first_ns; /* first_ns of that frame */
  guint64 payload_bytes; /* RTP payload received (the video's bitrate) */
  gboolean announce;   /* print "# decoded <ns>" for every frame */
} Receiver;

static uint64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Exactly `check_value` of framecast's frame-counter stamp
 * (crates/framecast/src/elements/video/counter.rs): splitmix64's
 * finaliser over both words, folded, with a constant. */
static uint32_t stamp_check(uint64_t frame, uint64_t ts) {
  uint64_t h = frame * 0x9E3779B97F4A7C15ull ^ ((ts << 29) | (ts >> 35));
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 31;
  return ((uint32_t)(h >> 32) ^ (uint32_t)h) ^ 0x5A3CC3A5u;
}

/* Reads a stamp from a limited-range luma plane, as `decode_counter` does;
 * 1 when it is whole (check matches) and carries a time. */
static int read_stamp(const guint8 *plane, int stride, int width, int rows, uint64_t *time_ns,
                      uint32_t *frame) {
  static const int sizes[] = {16, 8, 4, 2, 1};
  int b = 0, per_row, inset;
  uint64_t number = 0, ts = 0;
  uint32_t check = 0;
  for (int i = 0; i < 5 && b == 0; i++)
    if ((uint64_t)(width / sizes[i]) * (uint64_t)(rows / sizes[i]) >= BITS) b = sizes[i];
  if (b == 0) return 0;
  per_row = width / b;
  inset = b / 4;
  for (int k = 0; k < BITS; k++) {
    int bx = k % per_row * b, by = k / per_row * b;
    uint64_t sum = 0, n = 0, bit;
    for (int y = by + inset; y < by + b - inset; y++) {
      const guint8 *row = plane + (size_t)y * (size_t)stride;
      for (int x = bx + inset; x < bx + b - inset; x++, n++) sum += row[x];
    }
    bit = n > 0 && sum / n > (16 + 235) / 2;
    if (k < 64) number = number << 1 | bit;
    else if (k < 128) ts = ts << 1 | bit;
    else check = check << 1 | (uint32_t)bit;
  }
  if (check != stamp_check(number, ts) || ts == UINT64_MAX) return 0;
  *time_ns = ts;
  *frame = (uint32_t)number;
  return 1;
}

/* udpsrc's src pad: notes when each frame's first and last (marker)
 * packets leave udpsrc, so the latency can be split into the sender's
 * share (stamp -> last packet in) and the receiver's (-> decoded). The
 * pipeline has no queue: udpsrc's thread pushes the marker packet through
 * the depayloader and the decoder (slice threads, no frame delay) into
 * the appsink callback, so the newest marker is the decoded frame's. */
static GstPadProbeReturn on_packet(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  Receiver *r = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  guint8 head[8];
  uint64_t now = monotonic_ns();
  guint32 ts;
  (void)pad;
  if (buffer == NULL || gst_buffer_extract(buffer, 0, head, sizeof head) != sizeof head) return GST_PAD_PROBE_OK;
  {
    gsize size = gst_buffer_get_size(buffer);
    gsize header = 12 + 4 * (gsize)(head[0] & 0x0f);
    if (size > header) r->payload_bytes += size - header;
  }
  ts = (guint32)head[4] << 24 | (guint32)head[5] << 16 | (guint32)head[6] << 8 | head[7];
  if (ts != r->rtp_ts || r->first_ns == 0) {
    r->rtp_ts = ts;
    r->first_ns = now;
  }
  if (head[1] & 0x80) {
    r->marker_ns = now;
    r->marker_first_ns = r->first_ns;
  }
  return GST_PAD_PROBE_OK;
}

static GstFlowReturn on_sample(GstAppSink *sink, gpointer data) {
  uint64_t now = monotonic_ns();
  Receiver *r = data;
  GstSample *sample = gst_app_sink_pull_sample(sink);
  GstBuffer *buffer;
  GstCaps *caps;
  GstVideoFrame frame;
  uint64_t stamp_ns = 0;
  uint32_t number = 0;
  int whole = 0;

  if (sample == NULL) return GST_FLOW_EOS;
  buffer = gst_sample_get_buffer(sample);
  caps = gst_sample_get_caps(sample);
  if (caps != NULL && caps != r->caps) {
    if (!gst_video_info_from_caps(&r->info, caps)) {
      gst_sample_unref(sample);
      r->bad++;
      return GST_FLOW_OK;
    }
    gst_caps_replace(&r->caps, caps);
  }
  if (buffer != NULL && r->caps != NULL && gst_video_frame_map(&frame, &r->info, buffer, GST_MAP_READ)) {
    whole = read_stamp(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0), GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0),
                       GST_VIDEO_FRAME_WIDTH(&frame), GST_VIDEO_FRAME_HEIGHT(&frame), &stamp_ns,
                       &number);
    gst_video_frame_unmap(&frame);
  }
  gst_sample_unref(sample);
  if (r->announce) printf("# decoded %llu\n", (unsigned long long)now);
  if (whole) {
    r->frames++;
    if (r->marker_ns != 0)
      printf("%u\t%lld\t%lld\t%lld\n", number, (long long)(now - stamp_ns),
             (long long)(r->marker_first_ns - stamp_ns), (long long)(r->marker_ns - stamp_ns));
    else
      printf("%u\t%lld\n", number, (long long)(now - stamp_ns));
    fflush(stdout);
  } else {
    r->bad++;
    if (r->announce) fflush(stdout);
  }
  return GST_FLOW_OK;
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer data) {
  Receiver *r = data;
  (void)bus;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      GError *err = NULL;
      gchar *debug = NULL;
      gst_message_parse_error(msg, &err, &debug);
      fprintf(stderr, "gst_latency_receiver: error from %s: %s\n%s\n", GST_OBJECT_NAME(msg->src),
              err ? err->message : "?", debug ? debug : "");
      g_clear_error(&err);
      g_free(debug);
      r->status = 1;
      g_main_loop_quit(r->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit(r->loop);
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(msg) == GST_OBJECT(r->pipeline) && !r->ready) {
        GstState old_state, new_state;
        gst_message_parse_state_changed(msg, &old_state, &new_state, NULL);
        if (new_state == GST_STATE_PLAYING) {
          r->ready = TRUE;
          printf("# ready\n");
          fflush(stdout);
        }
      }
      break;
    default:
      break;
  }
  return TRUE;
}

static gboolean on_stop(gpointer data) {
  g_main_loop_quit(((Receiver *)data)->loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  Receiver r = {0};
  GError *err = NULL;
  GstElement *sink;
  GstBus *bus;
  gchar *description;
  long port;
  double seconds;
  long jitter_ms = -1;
  gchar *jitterbuffer;
  char *end;

  gst_init(&argc, &argv);
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s PORT SECONDS [JITTER_MS]\n", argv[0]);
    return 2;
  }
  port = strtol(argv[1], &end, 10);
  if (*end != '\0' || port <= 0 || port > 65535) {
    fprintf(stderr, "gst_latency_receiver: bad port %s\n", argv[1]);
    return 2;
  }
  seconds = strtod(argv[2], &end);
  if (*end != '\0' || !(seconds > 0)) {
    fprintf(stderr, "gst_latency_receiver: bad seconds %s\n", argv[2]);
    return 2;
  }
  if (argc == 4) {
    jitter_ms = strtol(argv[3], &end, 10);
    if (*end != '\0' || jitter_ms < 0 || jitter_ms > 10000) {
      fprintf(stderr, "gst_latency_receiver: bad jitter-buffer latency %s\n", argv[3]);
      return 2;
    }
    r.announce = TRUE;
  }
  jitterbuffer = jitter_ms >= 0 ? g_strdup_printf("! rtpjitterbuffer latency=%ld ", jitter_ms) : g_strdup("");

  description = g_strdup_printf(
      "udpsrc name=src address=127.0.0.1 port=%ld buffer-size=4194304 "
      "caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" "
      "%s! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=I420 "
      "! appsink name=sink sync=false async=false",
      port, jitterbuffer);
  g_free(jitterbuffer);
  r.pipeline = gst_parse_launch(description, &err);
  g_free(description);
  if (r.pipeline == NULL || err != NULL) {
    fprintf(stderr, "gst_latency_receiver: %s (gstreamer1.0-plugins-good and gstreamer1.0-libav installed?)\n",
            err ? err->message : "cannot build the pipeline");
    g_clear_error(&err);
    return 1;
  }
  sink = gst_bin_get_by_name(GST_BIN(r.pipeline), "sink");
  {
    GstAppSinkCallbacks callbacks = {0};
    callbacks.new_sample = on_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, &r, NULL);
  }
  gst_object_unref(sink);
  {
    GstElement *src = gst_bin_get_by_name(GST_BIN(r.pipeline), "src");
    GstPad *pad = gst_element_get_static_pad(src, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_packet, &r, NULL);
    gst_object_unref(pad);
    gst_object_unref(src);
  }

  r.loop = g_main_loop_new(NULL, FALSE);
  bus = gst_element_get_bus(r.pipeline);
  gst_bus_add_watch(bus, on_bus, &r);
  gst_object_unref(bus);
  g_unix_signal_add(SIGTERM, on_stop, &r);
  g_unix_signal_add(SIGINT, on_stop, &r);
  g_timeout_add((guint)(seconds * 1000.0), on_stop, &r);

  /* As gst-launch does: PAUSED first (a live udpsrc answers NO_PREROLL),
   * then PLAYING; straight to PLAYING leaves the sink waiting to preroll. */
  if (gst_element_set_state(r.pipeline, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE ||
      gst_element_set_state(r.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    fprintf(stderr, "gst_latency_receiver: the pipeline could not start (port %ld taken?)\n", port);
    r.status = 1;
  } else {
    g_main_loop_run(r.loop);
  }
  gst_element_set_state(r.pipeline, GST_STATE_NULL);
  printf("# frames=%llu bad=%llu payload-bytes=%llu\n", (unsigned long long)r.frames,
         (unsigned long long)r.bad, (unsigned long long)r.payload_bytes);
  fflush(stdout);
  gst_caps_replace(&r.caps, NULL);
  gst_object_unref(r.pipeline);
  g_main_loop_unref(r.loop);
  return r.status;
}
