/* Draw a digit: nnmath's preparation and forward pass, in plain JavaScript.
 *
 * A page asks for the demo with an empty element <div data-digit-demo></div>; this script
 * fills it with a canvas to draw on (id "digit-canvas"), a Clear button, the prepared
 * 28 x 28 input and a bar chart of the ten probabilities, updated while you draw. On a page
 * without such an element it only defines window.nnmath and does nothing else.
 *
 * window.nnmath.prepare(image) is nnmath.preprocess.prepare_digit, step by step, for an
 * RGBA image {width, height, data} (a canvas's ImageData): to_grey, (shrink: nothing to do
 * for an image of at most WORK_SIDE pixels a side, such as the 280 x 280 canvas; larger
 * images are refused), to_ink, remove_background, otsu_threshold, keep_digit, crop_to_ink,
 * fit_box (Pillow's Lanczos resampling of a float image, ported from Pillow's Resample.c),
 * centre_in_frame. Float32 arithmetic is kept wherever NumPy computes in float32
 * (Math.fround), so the 784 values match Python's. It returns a Float32Array of 784 values,
 * or null where Python raises ImageError: no ink, no digit-sized piece of ink, or ink over
 * more than half the image.
 *
 * window.nnmath.predict(pixels) is MLP.predict_proba of one column of 784 numbers in
 * [0, 1]: ReLU layers, then the softmax, in float64 from the model's weights. The weights
 * are in digit-demo-model.js (written at build time by book/_ext/nnmath_demo.py with
 * nnmath.model_io.export_for_browser); window.nnmath.ready() loads them with a <script>
 * tag, so the page works from any static server and from file://.
 */
(function () {
  "use strict";

  var SCRIPT = document.currentScript;
  var MODEL_FILE = "digit-demo-model.js";
  var SIDE = 28; // nnmath.data.SIDE: the frame is 28 x 28
  var BOX = 20; // nnmath.preprocess.BOX: the digit fits a 20 x 20 box
  var f32 = Math.fround;
  var CROP_INK = f32(0.1); // nnmath.preprocess.CROP_INK, compared in float32 as NumPy does
  var LUMA = [f32(0.299), f32(0.587), f32(0.114)]; // nnmath.preprocess.LUMA (float32)
  var WORK_SIDE = 1000; // nnmath.preprocess.WORK_SIDE: shrink leaves smaller images alone
  var BACKGROUND_WINDOW = 0.25; // nnmath.preprocess.BACKGROUND_WINDOW (of the shorter side)
  var PIECE_FRACTION = 0.05; // nnmath.preprocess.PIECE_FRACTION
  var DIGIT_FRACTION = 0.1; // nnmath.preprocess.DIGIT_FRACTION
  var MAX_INK = 0.5; // nnmath.preprocess.MAX_INK
  var FLOOR = f32(1e-3); // the 1e-3 that divisors are kept above, float32 as NumPy casts it
  var BINS = 256; // otsu_threshold's histogram of [0, 1]

  // ------------------------------------------------------------------ grey and ink

  /* to_grey: RGBA bytes -> grey in [0, 1], float32; alpha composited on white paper. */
  function toGrey(image) {
    var n = image.width * image.height;
    var data = image.data;
    var grey = new Float32Array(n);
    for (var i = 0; i < n; i++) {
      var r = f32(data[4 * i] / 255);
      var g = f32(data[4 * i + 1] / 255);
      var b = f32(data[4 * i + 2] / 255);
      var a = f32(data[4 * i + 3] / 255);
      var luma = f32(f32(f32(r * LUMA[0]) + f32(g * LUMA[1])) + f32(b * LUMA[2]));
      grey[i] = f32(f32(luma * a) + f32(1 - a));
    }
    return grey;
  }

  /* The pixels on the four edges (top row, bottom row, left column, right column). */
  function border(img, h, w) {
    var out = [];
    var x, y;
    for (x = 0; x < w; x++) out.push(img[x]);
    for (x = 0; x < w; x++) out.push(img[(h - 1) * w + x]);
    for (y = 0; y < h; y++) out.push(img[y * w]);
    for (y = 0; y < h; y++) out.push(img[y * w + w - 1]);
    return out;
  }

  /* The k-th smallest of values (from 0): quickselect, three-way so that runs of equal
     values (the paper's zeros) cost one pass. Reorders values: those after k are >= it. */
  function select(values, k) {
    var lo = 0, hi = values.length - 1;
    while (lo < hi) {
      var a = values[lo], b = values[(lo + hi) >> 1], c = values[hi];
      var pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
      var lt = lo, gt = hi, i = lo;
      while (i <= gt) {
        var v = values[i];
        if (v < pivot) {
          values[i++] = values[lt];
          values[lt++] = v;
        } else if (v > pivot) {
          values[i] = values[gt];
          values[gt--] = v;
        } else {
          i++;
        }
      }
      if (k < lt) hi = lt - 1;
      else if (k > gt) lo = gt + 1;
      else return pivot;
    }
    return values[k];
  }

  /* The smallest of values[from..]. */
  function least(values, from) {
    var lo = Infinity;
    for (var i = from; i < values.length; i++) if (values[i] < lo) lo = values[i];
    return lo;
  }

  /* np.median of float32 values: the middle one, or the float32 mean of the two middle. */
  function median(values) {
    var copy = Float32Array.from(values), mid = copy.length >> 1;
    if (copy.length % 2) return select(copy, mid);
    var below = select(copy, mid - 1);
    return f32(f32(below + least(copy, mid)) / 2);
  }

  function minMax(img) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < img.length; i++) {
      if (img[i] < lo) lo = img[i];
      if (img[i] > hi) hi = img[i];
    }
    return [lo, hi];
  }

  /* ink_is_dark: the ink lies farther from the border's median than the paper does. */
  function inkIsDark(grey, h, w) {
    var background = median(border(grey, h, w));
    var range = minMax(grey);
    var below = background - range[0], above = range[1] - background;
    if (below === above) return background > 0.5;
    return below > above;
  }

  /* to_ink: bright ink on dark paper, 1 - grey when the ink is dark, else grey. */
  function toInk(grey, h, w) {
    var ink = new Float32Array(grey.length);
    var dark = inkIsDark(grey, h, w);
    for (var i = 0; i < grey.length; i++) ink[i] = dark ? f32(1 - grey[i]) : grey[i];
    return ink;
  }

  /* The minimum over each run of k values (k odd) centred on each pixel of each row of
     img (h x w), written transposed (w x h), so that a second call does the columns and
     turns the image back. Van Herk and Gil-Werman's algorithm: each row, padded by
     (k - 1) / 2 values at each end, with its end values (scipy's mode="nearest") or zeros
     (mode="constant"), is cut in blocks of k; the minima from each block's start and to
     its end give any run's minimum in one comparison, whatever k is. */
  function minRowsT(img, h, w, k, nearest) {
    var out = new Float32Array(h * w), r = (k - 1) >> 1, len = w + 2 * r;
    var pad = new Float32Array(len), ahead = new Float32Array(len);
    var behind = new Float32Array(len);
    for (var y = 0; y < h; y++) {
      var row = y * w, j, v, end;
      pad.fill(nearest ? img[row] : 0, 0, r);
      pad.set(img.subarray(row, row + w), r);
      pad.fill(nearest ? img[row + w - 1] : 0, r + w);
      for (var b = 0; b < len; b += k) {
        end = Math.min(b + k, len);
        ahead[b] = v = pad[b]; // ahead[j]: the minimum of pad[b..j]
        for (j = b + 1; j < end; j++) ahead[j] = v = pad[j] < v ? pad[j] : v;
        behind[end - 1] = v = pad[end - 1]; // behind[j]: the minimum of pad[j..end - 1]
        for (j = end - 2; j >= b; j--) behind[j] = v = pad[j] < v ? pad[j] : v;
      }
      for (j = 0; j < w; j++) {
        var x = behind[j], z = ahead[j + k - 1]; // pad[j..j + k - 1]: at most two blocks
        out[j * h + y] = z < x ? z : x;
      }
    }
    return out;
  }

  /* scipy.ndimage.minimum_filter (or maximum_filter) with a k x k square, k odd: the rows,
     then the columns (exact: a square's extreme is the extreme of its rows' extremes). The
     maximum is the minimum of the negated image, negated (exact in float32). */
  function extremeFilter(img, h, w, k, max, nearest) {
    var i, src = img;
    if (max) for (src = new Float32Array(img.length), i = 0; i < img.length; i++) src[i] = -img[i];
    var out = minRowsT(minRowsT(src, h, w, k, nearest), w, h, k, nearest);
    if (max) for (i = 0; i < out.length; i++) out[i] = -out[i];
    return out;
  }

  /* remove_background: the paper's level B is the grey opening of the ink (the k x k
     minimum, then the k x k maximum of that, edges repeated), k odd and about half the
     shorter side; then (ink - B) / max(1 - B, 1e-3), clipped at 0, the strongest ink 1. */
  function removeBackground(ink, h, w) {
    var k = 2 * Math.max(1, roundHalfEven((BACKGROUND_WINDOW * Math.min(h, w)) / 2)) + 1;
    var paper = extremeFilter(extremeFilter(ink, h, w, k, false, true), h, w, k, true, true);
    var lifted = new Float32Array(ink.length);
    var peak = 0;
    for (var i = 0; i < ink.length; i++) {
      var v = f32(f32(ink[i] - paper[i]) / Math.max(f32(1 - paper[i]), FLOOR));
      lifted[i] = v > 0 ? v : 0;
      if (lifted[i] > peak) peak = lifted[i];
    }
    if (peak > 0) for (i = 0; i < ink.length; i++) lifted[i] = f32(lifted[i] / peak);
    return lifted;
  }

  /* otsu_threshold: the upper edge of the bin j of a 256-bin histogram of [0, 1] that
     maximises omega_0 omega_1 (mu_0 - mu_1)^2, in float64 as NumPy computes it: the sums
     run in order, as np.cumsum's (the total mean, p @ centres in NumPy, is a BLAS dot
     product whose order may differ in the last bit: only a near-tie could tell). */
  function otsuThreshold(ink) {
    var counts = new Float64Array(BINS);
    for (var i = 0; i < ink.length; i++) counts[Math.min(Math.floor(ink[i] * BINS), BINS - 1)]++;
    var j, total = ink.length, muAll = 0;
    for (j = 0; j < BINS; j++) muAll += (counts[j] / total) * ((j + 0.5) / BINS);
    var omega0 = 0, mass0 = 0, best = -Infinity, bestBin = 0;
    for (j = 0; j < BINS - 1; j++) {
      var p = counts[j] / total;
      omega0 += p;
      mass0 += p * ((j + 0.5) / BINS);
      var omega1 = 1 - omega0, between = -1;
      if (omega0 > 0 && omega1 > 0) {
        var gap = mass0 / omega0 - (muAll - mass0) / omega1;
        between = omega0 * omega1 * (gap * gap);
      }
      if (between > best) {
        best = between; // the first of equal maxima, as np.argmax
        bestBin = j;
      }
    }
    return (bestBin + 1) / BINS;
  }

  /* np.percentile(values, 90) of float32 values, NumPy's default (linear) method: the
     index (n - 1) 0.9 in float64, the interpolation in float32. Reorders values. */
  function percentile90(values) {
    var n = values.length, at = (n - 1) * 0.9;
    if (at >= n - 1) return select(values, n - 1);
    var below = Math.floor(at), t = at - below;
    var a = select(values, below), b = least(values, below + 1), diff = f32(b - a);
    return t >= 0.5 ? f32(b - f32(diff * f32(1 - t))) : f32(a + f32(diff * f32(t)));
  }

  /* keep_digit: the 8-connected pieces of ink above Otsu's threshold; the largest is the
     digit, others near it and at least 5% of its size are kept (a digit in two strokes),
     specks go. The pixels within reach of a kept piece keep their ink, rescaled so that
     the paper's median is 0 and the kept pieces' 90th percentile 1, clipped to [0, 1].
     null where Python raises: ink over half the image, or no piece of a digit's size. */
  function keepDigit(ink, h, w) {
    var n = h * w, t = otsuThreshold(ink), strong = new Uint8Array(n), count = 0, i;
    for (i = 0; i < n; i++) {
      if (ink[i] > t) {
        strong[i] = 1;
        count++;
      }
    }
    if (count / n > MAX_INK) return null; // ink over half the image: no digit on paper
    // Label the pieces in the order of their first pixel, row by row (scipy's order).
    var labels = new Int32Array(n), stack = new Int32Array(n), pieces = [];
    for (i = 0; i < n; i++) {
      if (!strong[i] || labels[i]) continue;
      var piece = { area: 0, top: h, bottom: 0, left: w, right: 0 }; // bottom, right: stops
      pieces.push(piece);
      var depth = 0; // a flood fill from the piece's first pixel
      stack[depth++] = i;
      labels[i] = pieces.length;
      while (depth) {
        var at = stack[--depth], y = (at / w) | 0, x = at - y * w;
        piece.area++;
        if (y < piece.top) piece.top = y;
        if (y >= piece.bottom) piece.bottom = y + 1;
        if (x < piece.left) piece.left = x;
        if (x >= piece.right) piece.right = x + 1;
        for (var ny = Math.max(y - 1, 0); ny <= Math.min(y + 1, h - 1); ny++) {
          for (var nx = Math.max(x - 1, 0); nx <= Math.min(x + 1, w - 1); nx++) {
            var next = ny * w + nx;
            if (strong[next] && !labels[next]) {
              labels[next] = pieces.length;
              stack[depth++] = next;
            }
          }
        }
      }
    }
    if (!pieces.length) return null; // no ink above the threshold: empty
    var main = pieces[0];
    pieces.forEach(function (p) { if (p.area > main.area) main = p; }); // the first largest
    var height = main.bottom - main.top, width = main.right - main.left;
    if (Math.max(height, width) < Math.max(4, DIGIT_FRACTION * Math.min(h, w))) return null;
    var keep = [false];
    pieces.forEach(function (p) {
      var near = p.bottom > main.top - height / 2 && p.top < main.bottom + height / 2 &&
        p.right > main.left - width / 2 && p.left < main.right + width / 2;
      keep.push(near && p.area >= PIECE_FRACTION * main.area);
    });
    var kept = new Float32Array(n), nKept = 0;
    for (i = 0; i < n; i++) {
      if (keep[labels[i]]) {
        kept[i] = 1;
        nKept++;
      }
    }
    var reach = 1 + Math.floor(Math.min(h, w) / 56);
    var region = extremeFilter(kept, h, w, 2 * reach + 1, true, false); // mode="constant"
    var paperInk = new Float32Array(n - count), keptInk = new Float32Array(nKept);
    var nPaper = 0, nInk = 0;
    for (i = 0; i < n; i++) {
      if (!strong[i]) paperInk[nPaper++] = ink[i];
      if (kept[i]) keptInk[nInk++] = ink[i];
    }
    var paper = median(paperInk), level = percentile90(keptInk);
    // max(level - paper, 1e-3): the float32 difference, or 1e-3 (in float32, as NumPy
    // divides a float32 array by a Python float).
    var scale = Math.max(f32(level - paper), FLOOR);
    var out = new Float32Array(n);
    for (i = 0; i < n; i++) {
      if (region[i]) out[i] = Math.min(Math.max(f32(f32(ink[i] - paper) / scale), 0), 1);
    }
    return out;
  }

  // ------------------------------------------------------------------ geometry

  /* crop_to_ink: the smallest rectangle holding every pixel above the threshold. */
  function cropToInk(ink, h, w) {
    var top = h, bottom = -1, left = w, right = -1;
    for (var y = 0; y < h; y++) {
      for (var x = 0; x < w; x++) {
        if (ink[y * w + x] > CROP_INK) {
          if (y < top) top = y;
          if (y > bottom) bottom = y;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
    }
    if (bottom < 0) return null; // no ink: Python raises ImageError here
    var ch = bottom - top + 1, cw = right - left + 1;
    var crop = new Float32Array(ch * cw);
    for (y = 0; y < ch; y++) {
      crop.set(ink.subarray((top + y) * w + left, (top + y) * w + left + cw), y * cw);
    }
    return { data: crop, h: ch, w: cw };
  }

  /* Python's round(): to the nearest integer, halves to the even one. */
  function roundHalfEven(x) {
    var floor = Math.floor(x);
    var rest = x - floor;
    if (rest !== 0.5) return Math.round(x);
    return floor % 2 === 0 ? floor : floor + 1;
  }

  function sinc(x) {
    if (x === 0) return 1;
    x = x * Math.PI;
    return Math.sin(x) / x;
  }

  /* Pillow's Lanczos filter: a sinc windowed by a wider sinc, support 3. */
  function lanczos(x) {
    return -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0;
  }

  /* Pillow's precompute_coeffs: for each output pixel, the first input pixel it reads, how
     many, and their normalised weights. Shrinking widens the filter by the scale, so each
     output pixel averages over the input pixels it covers. */
  function coefficients(inSize, outSize) {
    var scale = inSize / outSize;
    var filterscale = Math.max(scale, 1);
    var support = 3 * filterscale;
    var ss = 1 / filterscale;
    var first = [], count = [], weights = [];
    for (var xx = 0; xx < outSize; xx++) {
      var center = (xx + 0.5) * scale;
      var xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      var xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
      var k = new Float64Array(Math.max(xmax, 0));
      var ww = 0;
      for (var x = 0; x < xmax; x++) {
        k[x] = lanczos((x + xmin - center + 0.5) * ss);
        ww += k[x];
      }
      if (ww !== 0) for (x = 0; x < xmax; x++) k[x] /= ww;
      first.push(xmin);
      count.push(xmax);
      weights.push(k);
    }
    return { first: first, count: count, weights: weights };
  }

  /* Pillow's Image.resize of a float ("F") image with LANCZOS: a horizontal pass into a
     float32 image of the rows the vertical pass needs, then the vertical pass. Sums in
     double, results stored as float32, as Pillow does. */
  function resize(src, h, w, newH, newW) {
    if (newH === h && newW === w) return Float32Array.from(src); // Pillow copies
    var vert = coefficients(h, newH);
    var img = src, imgW = w, offset = 0;
    if (newW !== w) {
      var hor = coefficients(w, newW);
      var firstRow = vert.first[0];
      var rows = vert.first[newH - 1] + vert.count[newH - 1] - firstRow;
      var tmp = new Float32Array(rows * newW);
      for (var yy = 0; yy < rows; yy++) {
        for (var xx = 0; xx < newW; xx++) {
          var k = hor.weights[xx], start = (yy + firstRow) * w + hor.first[xx];
          var ss = 0;
          for (var x = 0; x < hor.count[xx]; x++) ss += src[start + x] * k[x];
          tmp[yy * newW + xx] = ss;
        }
      }
      img = tmp;
      imgW = newW;
      offset = firstRow;
    }
    if (newH === h) return img;
    var out = new Float32Array(newH * imgW);
    for (yy = 0; yy < newH; yy++) {
      var kv = vert.weights[yy], ymin = vert.first[yy] - offset;
      for (xx = 0; xx < imgW; xx++) {
        var sv = 0;
        for (var y = 0; y < vert.count[yy]; y++) sv += img[(ymin + y) * imgW + xx] * kv[y];
        out[yy * imgW + xx] = sv;
      }
    }
    return out;
  }

  /* fit_box: the longer side becomes 20 pixels, aspect kept; clipped to [0, 1]. */
  function fitBox(crop) {
    var scale = BOX / Math.max(crop.h, crop.w);
    var newH = Math.max(1, roundHalfEven(crop.h * scale));
    var newW = Math.max(1, roundHalfEven(crop.w * scale));
    var box = resize(crop.data, crop.h, crop.w, newH, newW);
    for (var i = 0; i < box.length; i++) box[i] = Math.min(Math.max(box[i], 0), 1);
    return { data: box, h: newH, w: newW };
  }

  /* centre_in_frame: shift by whole pixels so the centre of mass lands on (14, 14). */
  function centreInFrame(box) {
    var mass = 0, rowSum = 0, colSum = 0;
    for (var y = 0; y < box.h; y++) {
      for (var x = 0; x < box.w; x++) {
        var v = box.data[y * box.w + x];
        mass += v;
        rowSum += y * v;
        colSum += x * v;
      }
    }
    var frame = new Float32Array(SIDE * SIDE);
    if (!(mass > 0)) return null;
    var dy = Math.floor(SIDE / 2 - rowSum / mass + 0.5);
    var dx = Math.floor(SIDE / 2 - colSum / mass + 0.5);
    for (y = 0; y < box.h; y++) {
      for (x = 0; x < box.w; x++) {
        var fy = y + dy, fx = x + dx;
        if (fy >= 0 && fy < SIDE && fx >= 0 && fx < SIDE) {
          frame[fy * SIDE + fx] = box.data[y * box.w + x];
        }
      }
    }
    return frame;
  }

  /* prepare_digit: an RGBA image {width, height, data} -> 784 float32 values, or null. */
  function prepare(image) {
    var h = image.height, w = image.width;
    if (!(h >= 1 && w >= 1) || image.data.length !== 4 * h * w) {
      throw new Error("nnmath.prepare: expected {width, height, data} with 4 bytes a pixel");
    }
    if (Math.max(h, w) > WORK_SIDE) {
      throw new Error("nnmath.prepare: shrink is not ported; expected at most " + WORK_SIDE +
        " pixels a side");
    }
    // shrink would leave this image as it is: its longer side is at most WORK_SIDE.
    var ink = removeBackground(toInk(toGrey(image), h, w), h, w);
    var digit = keepDigit(ink, h, w);
    var crop = digit && cropToInk(digit, h, w);
    return crop && centreInFrame(fitBox(crop));
  }

  // ------------------------------------------------------------------ the network

  var model = null;
  var loading = null;

  function decode(base64, dtype) {
    var bytes = atob(base64);
    var view = new DataView(new ArrayBuffer(bytes.length));
    for (var i = 0; i < bytes.length; i++) view.setUint8(i, bytes.charCodeAt(i));
    var size = dtype === "float64" ? 8 : 4;
    var out = new Float64Array(bytes.length / size);
    for (i = 0; i < out.length; i++) {
      out[i] = size === 8 ? view.getFloat64(8 * i, true) : view.getFloat32(4 * i, true);
    }
    return out;
  }

  function useModel(exported) {
    if (exported.hidden !== "relu" || exported.output !== "softmax") {
      throw new Error("nnmath: expected ReLU layers and a softmax output");
    }
    model = {
      sizes: exported.sizes,
      W: exported.W.map(function (w) { return decode(w, exported.dtype); }),
      b: exported.b.map(function (b) { return decode(b, exported.dtype); }),
      meta: exported.meta,
    };
    return model;
  }

  /* Load the weights (once): a promise of the model. */
  function ready() {
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      if (window.NNMATH_MODEL) return resolve(useModel(window.NNMATH_MODEL));
      var tag = document.createElement("script");
      tag.src = new URL(MODEL_FILE, SCRIPT ? SCRIPT.src : document.baseURI).href;
      tag.onload = function () {
        try {
          resolve(useModel(window.NNMATH_MODEL));
        } catch (err) {
          reject(err);
        }
      };
      tag.onerror = function () {
        reject(new Error("nnmath: could not load " + tag.src));
      };
      document.head.appendChild(tag);
    });
    return loading;
  }

  /* MLP.predict_proba of one column: Z = W A + b, ReLU below the top, softmax at the top. */
  function predict(pixels) {
    if (!model) throw new Error("nnmath.predict: the model is not loaded; await nnmath.ready()");
    var sizes = model.sizes;
    if (pixels.length !== sizes[0]) {
      throw new Error("nnmath.predict: expected " + sizes[0] + " pixels, got " + pixels.length);
    }
    var a = Float64Array.from(pixels);
    for (var l = 0; l < model.W.length; l++) {
      var n = sizes[l + 1], nPrev = sizes[l], W = model.W[l], b = model.b[l];
      var z = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        var s = 0;
        for (var j = 0; j < nPrev; j++) s += W[i * nPrev + j] * a[j];
        z[i] = s + b[i];
      }
      if (l < model.W.length - 1) {
        for (i = 0; i < n; i++) z[i] = Math.max(z[i], 0);
      } else {
        var top = Math.max.apply(null, z), total = 0;
        for (i = 0; i < n; i++) total += (z[i] = Math.exp(z[i] - top));
        for (i = 0; i < n; i++) z[i] /= total;
      }
      a = z;
    }
    return Array.from(a);
  }

  window.nnmath = { prepare: prepare, predict: predict, ready: ready, SIDE: SIDE, BOX: BOX };

  // ------------------------------------------------------------------ the page

  var PEN = 24; // the stroke's width, in pixels of the 280 x 280 canvas
  var EMPTY = "draw a digit";

  function element(tag, className, parent) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (parent) parent.appendChild(e);
    return e;
  }

  function build(root) {
    root.textContent = ""; // the <noscript> message, if any
    root.classList.add("digit-demo");
    var pad = element("div", "digit-demo-pad", root);
    var canvas = element("canvas", "digit-demo-canvas", pad);
    canvas.id = "digit-canvas";
    canvas.width = canvas.height = 280;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "a square to draw a digit in, with a mouse or a finger");
    var clear = element("button", "digit-demo-clear", pad);
    clear.type = "button";
    clear.textContent = "Clear";

    var result = element("div", "digit-demo-result", root);
    var reading = element("p", "digit-demo-reading", result);
    reading.appendChild(document.createTextNode("The network reads "));
    var prediction = element("output", "digit-demo-prediction", reading);
    prediction.id = "digit-prediction";
    prediction.setAttribute("aria-live", "polite");
    prediction.textContent = EMPTY;
    var chance = element("span", "digit-demo-probability", reading);

    var chart = element("div", "digit-demo-bars", result);
    chart.setAttribute("role", "list");
    chart.setAttribute("aria-label", "the ten probabilities");
    var bars = [];
    for (var d = 0; d < 10; d++) {
      var column = element("div", "digit-demo-bar", chart);
      column.setAttribute("role", "listitem");
      var track = element("div", "digit-demo-track", column);
      var fill = element("div", "digit-demo-fill", track);
      element("div", "digit-demo-label", column).textContent = String(d);
      bars.push({ column: column, fill: fill });
    }

    var seen = element("figure", "digit-demo-seen", result);
    var input = element("canvas", "digit-demo-input", seen);
    input.width = input.height = SIDE;
    element("figcaption", "", seen).textContent = "the network's input, 28 × 28";

    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    var inputCtx = input.getContext("2d");
    var last = null;
    var pending = false;

    function blank() {
      ctx.fillStyle = "#000";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    }

    function show(probabilities, pixels) {
      var best = -1;
      for (var d = 0; d < 10; d++) {
        var p = probabilities ? probabilities[d] : 0;
        if (probabilities && (best < 0 || p > probabilities[best])) best = d;
        bars[d].fill.style.height = (100 * p).toFixed(1) + "%";
        bars[d].column.title = probabilities ? d + ": " + p.toFixed(4) : String(d);
        bars[d].column.setAttribute("aria-label", bars[d].column.title);
      }
      bars.forEach(function (bar, d) {
        bar.column.classList.toggle("digit-demo-best", d === best);
      });
      prediction.textContent = best < 0 ? EMPTY : String(best);
      chance.textContent = best < 0 ? "" : " (probability " + probabilities[best].toFixed(3) + ")";
      var picture = inputCtx.createImageData(SIDE, SIDE);
      for (var i = 0; i < SIDE * SIDE; i++) {
        var v = pixels ? Math.round(255 * pixels[i]) : 0;
        picture.data[4 * i] = picture.data[4 * i + 1] = picture.data[4 * i + 2] = v;
        picture.data[4 * i + 3] = 255;
      }
      inputCtx.putImageData(picture, 0, 0);
    }

    function update() {
      pending = false;
      var pixels = prepare(ctx.getImageData(0, 0, canvas.width, canvas.height));
      if (!pixels) return show(null, null);
      if (!model) {
        ready().then(update, function () {});
        return undefined;
      }
      show(predict(pixels), pixels);
      return undefined;
    }

    function schedule() {
      if (!pending) {
        pending = true;
        window.requestAnimationFrame(update);
      }
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect(); // the drawing area is inside the border
      return {
        x: ((event.clientX - rect.left - canvas.clientLeft) * canvas.width) / canvas.clientWidth,
        y: ((event.clientY - rect.top - canvas.clientTop) * canvas.height) / canvas.clientHeight,
      };
    }

    function stroke(from, to) {
      ctx.strokeStyle = ctx.fillStyle = "#fff";
      ctx.lineWidth = PEN;
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.beginPath();
      if (from.x === to.x && from.y === to.y) {
        ctx.arc(to.x, to.y, PEN / 2, 0, 2 * Math.PI);
        ctx.fill();
      } else {
        ctx.moveTo(from.x, from.y);
        ctx.lineTo(to.x, to.y);
        ctx.stroke();
      }
      schedule();
    }

    canvas.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      last = point(event);
      stroke(last, last);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!last) return;
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      (events.length ? events : [event]).forEach(function (e) {
        var next = point(e);
        stroke(last, next);
        last = next;
      });
    });
    function end() {
      last = null;
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    clear.addEventListener("click", function () {
      blank();
      show(null, null);
    });

    blank();
    show(null, null);
    ready().then(schedule, function (err) {
      prediction.textContent = "the model did not load";
      console.warn(err); // eslint-disable-line no-console
    });
  }

  function start() {
    var roots = document.querySelectorAll("[data-digit-demo]");
    if (roots.length) build(roots[0]); // the ids are the page's: one demo a page
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
