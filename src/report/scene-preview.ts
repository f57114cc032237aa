import type { SceneAxes } from './scene-axes.js';

/** What the preview of a 3-D map is drawn from: the figure's traces and layout, as Plotly gets them. */
export interface PreviewInput {
  data: Record<string, any>[];
  layout: Record<string, any>;
  width: number;
  /** Draw everything in this task (for printing), not in slices. */
  atOnce?: boolean;
  /** Has a newer drawing of the same canvas started? Then this one stops. */
  superseded(): boolean;
}

export interface ScenePreview {
  /** Draws the map into `canvas`, in slices of well under 200 ms; false when superseded. */
  draw(canvas: HTMLCanvasElement, input: PreviewInput): Promise<boolean>;
}

/**
 * A still picture of a Plotly `scatter3d` scene drawn on a 2-D canvas, for the report's first
 * screen: creating Plotly's WebGL scene blocks the page for a second or more in software WebGL.
 * It follows what Plotly's gl3d scene and gl-plot3d/gl-axes do for the layout's initial camera —
 * autorange padding, aspect ratio, perspective (45° vertical field of view), which cube faces get
 * backgrounds and grids, which edges get tick labels and titles and how they turn, Plotly's auto
 * ticks and number format (`axes`, src/report/scene-axes.ts), the legend's rows — so that the
 * interactive map replaces it without a jump. Like the page script, this function is inlined as its
 * source text: nothing from outside but its argument.
 */
export function scenePreview(axes: SceneAxes): ScenePreview {
  const { axisRange, autoTicks, tickText, cubeSides } = axes;
  type Vec3 = [number, number, number];
  interface Axis {
    range: [number, number];
    /** The data's own extent (Plotly's dataScale is 1 / this). */
    span: number;
    ticks: number[];
    dtick: number;
  }
  /** Milliseconds of drawing points between two yields to the browser. */
  const SLICE_MS = 25;
  /** Plotly draws a scene into a buffer of twice its CSS size; its tick density counts those pixels. */
  const GL_PIXEL_RATIO = 2;
  const FOVY = Math.PI / 4;
  const TICK_PAD = 18;
  const LABEL_PAD = 30;

  const finite = (v: unknown): v is number => typeof v === 'number' && isFinite(v);
  const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const cross = (a: Vec3, b: Vec3): Vec3 => [
    a[1] * b[2] - a[2] * b[1],
    a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0],
  ];
  const unit = (a: Vec3): Vec3 => {
    const n = Math.hypot(a[0], a[1], a[2]) || 1;
    return [a[0] / n, a[1] / n, a[2] / n];
  };
  const yieldTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

  function draw(target: HTMLCanvasElement, input: PreviewInput): Promise<boolean> {
    const { layout } = input;
    const scene = layout.scene ?? {};
    const font = layout.font ?? {};
    const family: string = font.family ?? 'sans-serif';
    const ink: string = font.color ?? '#444';
    const width = Math.max(1, Math.round(input.width));
    const height: number = layout.height ?? 450;
    const margin = Object.assign({ l: 80, r: 80, t: 100, b: 80 }, layout.margin);
    const traces = input.data.filter((t) => t.type === 'scatter3d' && t.visible !== false);
    const ratio = window.devicePixelRatio || 1;
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const g = canvas.getContext('2d')!;
    g.scale(ratio, ratio);
    g.fillStyle = layout.paper_bgcolor ?? '#fff';
    g.fillRect(0, 0, width, height);

    // The legend: one row or more of circles and names in the top margin, which it pushes down;
    // by default Plotly shows it for two traces or more.
    const legend = layout.legend ?? {};
    const legendTraces = (layout.showlegend ?? traces.length > 1) ? traces : [];
    const legendSize: number = legend.font?.size ?? font.size ?? 12;
    g.font = `${legendSize}px ${family}`;
    // One row if every item fits, else a grid of columns as wide as the widest item.
    const rowHeight = 19;
    const widths = legendTraces.map((t) => 40 + g.measureText(String(t.name ?? '')).width);
    const oneRow = widths.reduce((sum, w) => sum + w + 5, -5) <= width;
    const column = Math.max(0, ...widths) + 5;
    const perRow = oneRow ? widths.length : Math.max(1, Math.floor((width + 5) / column));
    const items = legendTraces.map((trace, k) => ({
      trace,
      x: oneRow ? widths.slice(0, k).reduce((sum, w) => sum + w + 5, 0) : (k % perRow) * column,
      row: Math.floor(k / perRow),
    }));
    const rows = Math.ceil(items.length / perRow);
    const legendHeight = items.length ? 10 + rowHeight * rows : 0;
    // Plotly's automargin: a legend taller than the top margin pushes the scene down.
    const top = Math.max(margin.t, legendHeight);
    const legendTop = top - legendHeight;
    for (const item of items) {
      const y = legendTop + 14.5 + item.row * rowHeight;
      g.globalAlpha = item.trace.marker?.opacity ?? 1;
      g.fillStyle = item.trace.marker?.color ?? '#1f77b4';
      g.beginPath();
      g.arc(item.x + 20, y, 6, 0, 2 * Math.PI);
      g.fill();
      g.globalAlpha = 1;
      g.fillStyle = legend.font?.color ?? ink;
      g.fillText(String(item.trace.name ?? ''), item.x + 40, y + 0.39 * legendSize);
    }

    // The scene's viewport, camera and the data → box → screen transform.
    const vx = margin.l;
    const vy = top;
    const vw = Math.max(1, width - margin.l - margin.r);
    const vh = Math.max(1, height - top - margin.b);
    const names = ['xaxis', 'yaxis', 'zaxis'] as const;
    const letters = ['x', 'y', 'z'] as const;
    const aspectRatio = scene.aspectratio ?? { x: 1, y: 1, z: 1 };
    const aspect: Vec3 = [aspectRatio.x, aspectRatio.y, aspectRatio.z];
    const camera = scene.camera ?? {};
    const eye: Vec3 = [camera.eye?.x ?? 1.25, camera.eye?.y ?? 1.25, camera.eye?.z ?? 1.25];
    const center: Vec3 = [camera.center?.x ?? 0, camera.center?.y ?? 0, camera.center?.z ?? 0];
    const up: Vec3 = [camera.up?.x ?? 0, camera.up?.y ?? 0, camera.up?.z ?? 1];
    const forward = unit(sub(eye, center));
    const side = unit(cross(up, forward));
    const upward = cross(forward, side);
    const f = 1 / Math.tan(FOVY / 2);
    const viewDepth = dot(forward, eye);
    /** Box coordinates → [screen x, screen y, NDC x, NDC y]. */
    const project = (p: Vec3): [number, number, number, number] => {
      const q = sub(p, eye);
      const cx = dot(side, q);
      const cy = dot(upward, q);
      const w = -dot(forward, q);
      const nx = (f * cx) / (vw / vh) / w;
      const ny = (f * cy) / w;
      return [vx + ((nx + 1) / 2) * vw, vy + ((1 - ny) / 2) * vh, nx, ny];
    };
    // Box offsets per screen pixel at the scene's centre (gl-axes' pixelScaleF).
    const perPixel = viewDepth / vh;
    const axisOf: Axis[] = names.map((name, i) => {
      const { range, span } = axisRange(traces.map((t) => (t[letters[i]] ?? []) as number[]));
      return { range, span, ticks: [], dtick: 1 };
    });
    const box = (i: number, v: number): number => {
      const [lo, hi] = axisOf[i].range;
      return ((v - (lo + hi) / 2) / (hi - lo)) * aspect[i];
    };
    const corner = (v: number): Vec3 => [
      ((v & 1 ? 1 : -1) * aspect[0]) / 2,
      ((v & 2 ? 1 : -1) * aspect[1]) / 2,
      ((v & 4 ? 1 : -1) * aspect[2]) / 2,
    ];
    // gl-axes' cube: the far faces (backgrounds, grids) and the edges that carry each axis' ticks.
    const { edges, far } = cubeSides(eye, aspect, (v) => {
      const [, , nx, ny] = project(corner(v));
      return [nx, ny];
    });

    // Ticks as Plotly's computeTickMarks picks them: nticks, else from the axis' pixel length.
    for (let i = 0; i < 3; i++) {
      const axis = scene[names[i]] ?? {};
      let pixels = Infinity;
      for (let d = 0; d < 3; d++) {
        if (d === i) continue;
        for (let v = 0; v < 8; v++) {
          if (((v >> d) & 1) !== (far[d] > 0 ? 1 : 0)) continue;
          const p = corner(v);
          const a = p.slice() as Vec3;
          const b = p.slice() as Vec3;
          const step = aspect[i] * (axisOf[i].span / (axisOf[i].range[1] - axisOf[i].range[0]));
          a[i] -= step;
          b[i] += step;
          const [ax, ay] = project(a);
          const [bx, by] = project(b);
          pixels = Math.min(pixels, 0.25 * Math.hypot(2 * (bx - ax), 2 * (by - ay)));
        }
      }
      // Plotly's axis length: the range in scaled units × pixels per scaled unit ÷ dataScale.
      const length = (axisOf[i].range[1] - axisOf[i].range[0]) * pixels * GL_PIXEL_RATIO;
      const nticks = axis.nticks || Math.min(9, Math.max(4, length / 40));
      Object.assign(axisOf[i], autoTicks(axisOf[i].range, nticks));
    }

    const polygon = (points: Vec3[], fill: string): void => {
      g.beginPath();
      points.forEach((p, k) => {
        const [x, y] = project(p);
        if (k) g.lineTo(x, y);
        else g.moveTo(x, y);
      });
      g.closePath();
      g.fillStyle = fill;
      g.fill();
    };
    const line = (a: Vec3, b: Vec3, color: string, lineWidth: number): void => {
      const [ax, ay] = project(a);
      const [bx, by] = project(b);
      g.beginPath();
      g.moveTo(ax, ay);
      g.lineTo(bx, by);
      g.strokeStyle = color;
      g.lineWidth = lineWidth;
      g.stroke();
    };
    g.save();
    g.beginPath();
    g.rect(vx, vy, vw, vh);
    g.clip();
    // Far faces, each in its axis' background colour, then grid lines, then zero lines.
    for (let i = 0; i < 3; i++) {
      const axis = scene[names[i]] ?? {};
      if (axis.showbackground !== true) continue;
      const u = (i + 1) % 3;
      const w = (i + 2) % 3;
      const face: Vec3[] = [];
      for (const [su, sw] of [
        [-1, -1],
        [1, -1],
        [1, 1],
        [-1, 1],
      ]) {
        const p: Vec3 = [0, 0, 0];
        p[i] = far[i];
        p[u] = (su * aspect[u]) / 2;
        p[w] = (sw * aspect[w]) / 2;
        face.push(p);
      }
      polygon(face, axis.backgroundcolor ?? 'rgba(204, 204, 204, 0.5)');
    }
    for (const zero of [false, true])
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 2; j++) {
          const u = (i + 1 + j) % 3;
          const w = (i + 1 + (j ^ 1)) % 3;
          const axis = scene[names[u]] ?? {};
          const values = zero ? [0] : axis.showgrid === false ? [] : axisOf[u].ticks;
          if (zero && (axis.zeroline === false || !(axisOf[u].range[0] <= 0 && axisOf[u].range[1] >= 0)))
            continue;
          for (const t of values) {
            const a: Vec3 = [0, 0, 0];
            a[i] = far[i];
            a[u] = box(u, t);
            a[w] = -aspect[w] / 2;
            const b = a.slice() as Vec3;
            b[w] = aspect[w] / 2;
            // WebGL draws lines one buffer pixel wide (half a CSS pixel) whatever their width.
            if (zero) line(a, b, axis.zerolinecolor ?? '#444', 1 / GL_PIXEL_RATIO);
            else line(a, b, axis.gridcolor ?? 'rgb(204, 204, 204)', 1 / GL_PIXEL_RATIO);
          }
        }

    // Tick labels and axis titles along the chosen edges, turned as gl-axes' text shader turns them.
    const screenAngle = (p: Vec3, direction: Vec3): number => {
      const [, , ax, ay] = project(p);
      const [, , bx, by] = project([p[0] + direction[0], p[1] + direction[1], p[2] + direction[2]]);
      let angle = Math.atan2((by - ay) * vh, (bx - ax) * vw);
      if (Math.sin(angle) < 0) angle += Math.PI;
      const b = angle % Math.PI;
      return b > Math.PI / 2 ? b - Math.PI : b;
    };
    const label = (text: string, p: Vec3, size: number, color: string, angle: number): void => {
      const [x, y] = project(p);
      g.save();
      g.translate(x, y);
      g.rotate(-angle);
      g.font = `${size}px ${family}`;
      g.fillStyle = color;
      const m = g.measureText(text);
      g.fillText(
        text,
        -(m.actualBoundingBoxRight - m.actualBoundingBoxLeft) / 2,
        (m.actualBoundingBoxAscent - m.actualBoundingBoxDescent) / 2,
      );
      g.restore();
    };
    for (let i = 0; i < 3; i++) {
      const axis = scene[names[i]] ?? {};
      const offset: Vec3 = [0, 0, 0];
      const minor: Vec3 = [0, 0, 0];
      const major: Vec3 = [0, 0, 0];
      for (let j = 0; j < 3; j++) {
        if (j === i) continue;
        const onMax = (edges[i] & (1 << j)) !== 0;
        offset[j] = ((onMax ? 1 : -1) * aspect[j]) / 2;
        const towards = far[j] > 0;
        minor[j] = onMax ? (towards ? 0 : 1) : towards ? -1 : 0;
        major[j] = onMax ? (towards ? -1 : 0) : towards ? 0 : 1;
      }
      const step = (j: number): number =>
        aspect[j] * (axisOf[j].span / (axisOf[j].range[1] - axisOf[j].range[0]));
      const i1 = (i + 1) % 3;
      const i2 = (i + 2) % 3;
      const alignDir: Vec3 = [0, 0, 0];
      if (minor[i1] !== 0 && major[i2] !== 0) alignDir[i1] = step(i1);
      else if (minor[i2] !== 0 && major[i1] !== 0) alignDir[i2] = step(i2);
      for (let j = 0; j < 3; j++) offset[j] += perPixel * minor[j] * TICK_PAD;
      if (axis.showticklabels !== false) {
        const max = Math.max(...axisOf[i].ticks.map(Math.abs));
        const size: number = axis.tickfont?.size ?? font.size ?? 12;
        const color: string = axis.tickfont?.color ?? ink;
        for (const t of axisOf[i].ticks) {
          const p = offset.slice() as Vec3;
          p[i] = box(i, t);
          const angle = alignDir.some((v) => v !== 0) ? screenAngle(p, alignDir) : 0;
          label(tickText(t, axisOf[i].dtick, axis, max), p, size, color, angle);
        }
      }
      const title = String(axis.title?.text ?? '');
      if (title) {
        for (let j = 0; j < 3; j++) offset[j] += perPixel * minor[j] * LABEL_PAD;
        offset[i] = 0;
        const direction: Vec3 = [0, 0, 0];
        direction[i] = step(i);
        const angle = title.length > 4 ? screenAngle(offset, direction) : 0;
        label(title, offset, axis.title?.font?.size ?? 14, axis.title?.font?.color ?? ink, angle);
      }
    }

    // The points: each trace in order, each point a disc at the marker's opacity, as Plotly's
    // transparent pass blends them (no depth sorting); a few thousand points per task.
    const sprites = traces.map((t) => {
      // Plotly's scatter3d marker: size × 4 for "rough parity with 2-D markers", halved by its
      // bubble-size function; the "●" glyph's disc covers as much as a disc of ~0.8 of that as radius.
      const radius = Math.max(0.5, (t.marker?.size ?? 6) * 2 * 0.78);
      const sprite = document.createElement('canvas');
      const extent = Math.ceil(2 * radius * ratio) + 2;
      sprite.width = sprite.height = extent;
      const s = sprite.getContext('2d')!;
      s.fillStyle = t.marker?.color ?? '#1f77b4';
      s.beginPath();
      s.arc(extent / 2, extent / 2, radius * ratio, 0, 2 * Math.PI);
      s.fill();
      return { sprite, radius: extent / ratio / 2, size: extent / ratio };
    });
    // project() unrolled for the points: box coordinates are linear in the data.
    const [sx0, sy0, sz0] = [side, upward, forward].map((r) => -dot(r, eye));
    const scale = [0, 1, 2].map((i) => aspect[i] / (axisOf[i].range[1] - axisOf[i].range[0]));
    const mid = [0, 1, 2].map((i) => (axisOf[i].range[0] + axisOf[i].range[1]) / 2);
    const half = [vw / 2, vh / 2];
    const fx = f / (vw / vh);
    let trace = 0;
    let index = 0;
    const drawSlice = (): boolean => {
      const until = input.atOnce ? Infinity : performance.now() + SLICE_MS;
      while (trace < traces.length) {
        const t = traces[trace];
        const { sprite, radius, size } = sprites[trace];
        const xs = (t.x ?? []) as number[];
        const ys = (t.y ?? []) as number[];
        const zs = (t.z ?? []) as number[];
        g.globalAlpha = t.marker?.opacity ?? 1;
        for (; index < xs.length; index++) {
          if ((index & 255) === 0 && performance.now() > until) return false;
          const x = xs[index];
          const y = ys[index];
          const z = zs[index];
          if (!finite(x) || !finite(y) || !finite(z)) continue;
          const bx = (x - mid[0]) * scale[0];
          const by = (y - mid[1]) * scale[1];
          const bz = (z - mid[2]) * scale[2];
          const w = -(forward[0] * bx + forward[1] * by + forward[2] * bz + sz0);
          const cx = side[0] * bx + side[1] * by + side[2] * bz + sx0;
          const cy = upward[0] * bx + upward[1] * by + upward[2] * bz + sy0;
          const sx = vx + (1 + (fx * cx) / w) * half[0];
          const sy = vy + (1 - (f * cy) / w) * half[1];
          g.drawImage(sprite, sx - radius, sy - radius, size, size);
        }
        trace++;
        index = 0;
      }
      g.globalAlpha = 1;
      return true;
    };

    const finish = (): boolean => {
      g.restore();
      if (input.superseded()) return false;
      target.width = canvas.width;
      target.height = canvas.height;
      target.style.width = `${width}px`;
      target.style.height = `${height}px`;
      target.getContext('2d')!.drawImage(canvas, 0, 0);
      return true;
    };
    const loop = (): Promise<boolean> =>
      input.superseded()
        ? Promise.resolve(false)
        : drawSlice()
          ? Promise.resolve(finish())
          : yieldTask().then(loop);
    return input.atOnce ? Promise.resolve(drawSlice() && finish()) : yieldTask().then(loop);
  }

  return { draw };
}
