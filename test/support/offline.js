'use strict';
// Tests never download weights from the internet: lib/weights reads PET_IQA_OFFLINE (child processes
// inherit it). Tests of downloads serve files on 127.0.0.1 and turn downloads on explicitly.
process.env.PET_IQA_OFFLINE = '1';
