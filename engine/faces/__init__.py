"""Faces: MediaPipe detection + Face Mesh landmarks, the one crop policy, and tracking."""
