;; pgloader transforms for the backfill benchmark: the legacy file keeps
;; decimals and timestamps in several storage classes (REAL, INTEGER, BLOB
;; text, epoch numbers), which pgloader's default SQLite casts reject. These
;; give pgloader the same chance the backfill has, so the timing compares
;; like with like. Loaded with `pgloader --load-lisp-file`.

(in-package #:pgloader.transforms)

(defun tradestore-decimal (v)
  (typecase v
    (null nil)
    (string v)
    (vector (map 'string #'code-char v))
    (integer (format nil "~d" v))
    (float (format nil "~,8f" v))
    (t (princ-to-string v))))

(defun tradestore-side (v)
  (when v (string-upcase (tradestore-decimal v))))

(defun tradestore-timestamp (v)
  (flet ((from-epoch (secs micros)
           (multiple-value-bind (s mi h d mo y)
               (decode-universal-time (+ secs 2208988800) 0)
             (format nil "~4,'0d-~2,'0d-~2,'0d ~2,'0d:~2,'0d:~2,'0d.~6,'0d+00"
                     y mo d h mi s micros))))
    (typecase v
      (null nil)
      (string v)
      (vector (map 'string #'code-char v))
      (integer (if (>= v 100000000000)
                   (from-epoch (floor v 1000) (* 1000 (mod v 1000)))
                   (from-epoch v 0)))
      (float (multiple-value-bind (secs frac) (floor (rational v))
               (from-epoch secs (round (* frac 1000000)))))
      (t (princ-to-string v)))))
