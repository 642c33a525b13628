"""Faces: MediaPipe detection + Face Mesh landmarks, the one crop policy, and tracking.

- ``mesh.FaceMeshDetector``: every face of an image with 478 landmarks and a detector score.
- ``blazeface``: the BlazeFace box detectors (short- and full-range, tiled on big frames).
- ``crop.crop_face`` / ``crop.CropPolicy``: THE crop policy of training and inference.
- ``tracking``: links faces of consecutive sampled frames into tracks.
- ``pipeline.detect_faces_in_frames``: frames -> tracked crops, small faces flagged.
- ``landmark_sets``: named index sets of the mesh (face oval, reduced hulls, parts).
- ``boxes``: IoU, non-maximum suppression and tiling helpers.
"""
