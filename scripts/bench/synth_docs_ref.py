#!/usr/bin/env python3
"""The Python peer of benches/benches/synth_docs.rs: the same work per receipt with PIL
and Faker, the way such generators are usually written.

Per receipt: Faker seller, address and buyer; 1 to 8 items with prices; totals with 12%
VAT inside the prices (integer centavos); a 384 px wide 58 mm layout with DejaVu Sans
Mono at 20 px, wrapped lines; every word drawn with its box from `textbbox`; then one
augmentation: rotation and a perspective warp of the image (bilinear) with every word
box's corners moved by the same transform. No file I/O.
Prints `python receipts_per_second <n>`.
"""
import math
import random
import time

from faker import Faker
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
PRODUCTS = ["Rice 5kg", "Instant Coffee 3-in-1", "Bread Loaf", "Canned Sardines", "Cooking Oil 1L",
            "Laundry Soap", "Paracetamol 500mg", "Bottled Water 500ml", "Eggs (dozen)", "Iced Coffee Grande"]


def money(c):
    return f"{c // 100:,}.{c % 100:02d}"


def receipt_lines(fake, rng):
    lines = [(fake.company().upper(), "c"), (fake.address().replace("\n", ", "), "c"),
             (f"VAT REG TIN {rng.randint(100,999)}-{rng.randint(100,999)}-{rng.randint(100,999)}-000", "c"),
             ("OFFICIAL RECEIPT", "c"), (f"No. {rng.randint(1, 999999):06d}  {fake.date()}", "l")]
    total = 0
    for _ in range(rng.randint(1, 8)):
        unit = rng.randint(500, 40000)
        qty = rng.randint(1, 5)
        amount = unit * qty
        total += amount
        lines.append((rng.choice(PRODUCTS), "l"))
        lines.append((f"{qty} x {money(unit)}  {money(amount)}", "l"))
    vatable = (total * 100 + 56) // 112
    for label, v in (("SUBTOTAL", total), ("VATable Sales", vatable), ("VAT (12%)", total - vatable), ("TOTAL", total)):
        lines.append((f"{label}  P{money(v)}", "l"))
    lines.append((f"Paid: {rng.choice(['CASH', 'GCASH', 'MAYA'])}", "l"))
    lines.append(("Thank you!", "c"))
    return lines


def wrap(text, font, width):
    out, cur = [], ""
    for w in text.split(" "):
        cand = w if not cur else cur + " " + w
        if font.getlength(cand) <= width or not cur:
            cur = cand
        else:
            out.append(cur)
            cur = w
    out.append(cur)
    return out


def homography(src, dst):
    a, b = [], []
    for (x, y), (u, v) in zip(src, dst):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); b.append(u)
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y]); b.append(v)
    n = 8
    m = [row[:] + [bb] for row, bb in zip(a, b)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(n):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [m[i][n] / m[i][i] for i in range(n)] + [1.0]


def apply(h, x, y):
    w = h[6] * x + h[7] * y + h[8]
    return ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w)


def one(fake, rng, font):
    width, margin, lh = 384, 12, 26
    rows = []
    for text, align in receipt_lines(fake, rng):
        for t in wrap(text, font, width - 2 * margin):
            rows.append((t, align))
    img = Image.new("L", (width, 2 * margin + lh * len(rows)), 255)
    draw = ImageDraw.Draw(img)
    words = []
    for r, (text, align) in enumerate(rows):
        w = font.getlength(text)
        x = margin if align == "l" else margin + (width - 2 * margin - w) / 2
        y = margin + r * lh
        for word in text.split(" "):
            if word:
                draw.text((x, y), word, font=font, fill=0)
                words.append((word, draw.textbbox((x, y), word, font=font)))
            x += font.getlength(word + " ")
    # one augmentation: rotation and perspective, boxes moved with the pixels
    w, h = img.size
    ang = math.radians(rng.uniform(-3, 3))
    cx, cy = w / 2, h / 2
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    dst = []
    for x, y in src:
        dx, dy = x - cx, y - cy
        dst.append((cx + dx * math.cos(ang) - dy * math.sin(ang) + rng.uniform(-10, 10),
                    cy + dx * math.sin(ang) + dy * math.cos(ang) + rng.uniform(-10, 10)))
    mx, my = min(p[0] for p in dst), min(p[1] for p in dst)
    dst = [(x - math.floor(mx), y - math.floor(my)) for x, y in dst]
    ow = math.ceil(max(p[0] for p in dst)); oh = math.ceil(max(p[1] for p in dst))
    inv = homography(dst, src)
    fwd = homography(src, dst)
    out = img.transform((ow, oh), Image.PERSPECTIVE, inv[:8], Image.BILINEAR, fillcolor=255)
    moved = [(t, [apply(fwd, bx, by) for bx, by in ((b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3]))])
             for t, b in words]
    return out, moved


def main():
    fake = Faker("en_PH")
    Faker.seed(7)
    rng = random.Random(7)
    font = ImageFont.truetype(FONT, 20)
    for _ in range(20):
        one(fake, rng, font)
    n = 300
    t = time.perf_counter()
    for _ in range(n):
        one(fake, rng, font)
    print(f"python receipts_per_second {n / (time.perf_counter() - t):.1f}")


if __name__ == "__main__":
    main()
