"""Face geometry: landmarks, expression controls, alignment, the head model and UV unwrapping.

Entry points (import from the submodules; nothing heavy is imported here):

- landmarks.LandmarkDetector().detect(rgb) -> [DetectedFace(landmarks [478,3] px, bbox)]
- align.align_face(image, landmarks_px, size=256) -> Aligned(crop, landmarks, matrix [2,3])
- controls.fit_calibration(landmark_sets [N,478,3]) -> Calibration (.to_dict() / Calibration.from_dict())
- controls.codes_from_landmarks(landmarks [478,3] | [N,478,3], calibration) -> [E] | [N,E]
- pose.fit_pose(landmarks_px, model_points [478,3], size) -> [6]; pose.head_pose(landmarks, size) -> [6]
- head.fit_head(landmark_sets, images=None, calibration=None) -> HeadModel; head.export_head(head, texture, path)
- unwrap.unwrap(image, landmarks_px, head, code, pose=None, size=256) -> (uv [S,S,3], mask [S,S])
- unwrap.complete_texture(uv, mask, head) -> uv with never-seen texels filled
- render.render_head(head, texture, code, pose, size=256, light=None) -> rgb [S,S,3]
- single_photo.synthesize_album(image, landmarks_px, head, n=48, seed=0) -> [rgb [256,256,3]]
- pipeline.fit_subject(crop_landmarks, crops) / pipeline.process_face(image, landmarks_px, subject)
- segment.segment_person(rgb) -> person probability [H,W]
- bust.build_bust(image, landmarks_px, head, views=None) -> BustModel (hair/body shell, 512² face texture)
"""
